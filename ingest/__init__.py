"""PDF ingest: parse (text, metadata, figures, tables, OCR), then chunk for embedding.

PyMuPDF 2 imports its layout analyser (`pymupdf.layout`, which loads an ONNX model) as part of
`import pymupdf`: ~0.35 s of CPU and its model's memory in every process, the ingest workers
included, for a model only `tables="thorough"` uses (`ingest.tables.enable_layout` loads it then).
So the package keeps that import out unless PyMuPDF was already imported by someone else.
"""
import sys

if "pymupdf" not in sys.modules:
    sys.modules.setdefault("pymupdf.layout", None)  # None in sys.modules: the import fails, PyMuPDF goes on
