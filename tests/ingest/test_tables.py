"""Tables: a ruled table drawn with PyMuPDF, degenerate boxes, and caption pairing on the shared corpus."""
from __future__ import annotations

import pymupdf
import pytest

from ingest.tables import _ruled_region, assign_captions, extract_tables, find_page_tables, table_markdown

ROWS = [("Genotype", "Yield", "Height"), ("CB 202", "4.1", "92"), ("CB 205", "3.8", "88"), ("CB 210", "4.6", "95")]


def _ruled_table(page: pymupdf.Page, x0: float, y0: float) -> None:
    """A 4 x 3 table with every cell ruled."""
    cw, rh = 110, 20
    shape = page.new_shape()
    for r in range(len(ROWS) + 1):
        shape.draw_line((x0, y0 + r * rh), (x0 + 3 * cw, y0 + r * rh))
    for c in range(4):
        shape.draw_line((x0 + c * cw, y0), (x0 + c * cw, y0 + len(ROWS) * rh))
    shape.finish(color=(0, 0, 0), width=0.8)
    shape.commit()
    for r, row in enumerate(ROWS):
        for c, cell in enumerate(row):
            page.insert_text((x0 + c * cw + 6, y0 + r * rh + 14), cell, fontsize=9)


def _table_page(doc: pymupdf.Document, body: pymupdf.Rect, text: str) -> pymupdf.Page:
    """A page with body text in `body`, "Table 1" captioned above a ruled table at (100, 180)."""
    page = doc.new_page(width=612, height=792)
    page.insert_textbox(body, text, fontsize=10)
    page.insert_text((100, 170), "Table 1. Yield and height of three genotypes.", fontsize=9)
    _ruled_table(page, 100, 180)
    return page


def test_ruled_table_is_found_with_its_caption_as_markdown():
    doc = pymupdf.open()
    _table_page(doc, pymupdf.Rect(72, 60, 540, 120), "Results. Yields per genotype are listed below. " * 3)
    tables = extract_tables(doc)
    assert len(tables) == 1
    t = tables[0]
    assert t.page == 1 and t.label == "Table 1"
    assert t.caption == "Table 1. Yield and height of three genotypes."
    lines = t.text.splitlines()
    assert "Genotype" in lines[0] and "Yield" in lines[0] and "Height" in lines[0]
    assert any("CB 210" in ln and "4.6" in ln and "95" in ln for ln in lines)
    assert 95 <= t.bbox[0] <= 101 and 178 <= t.bbox[1] <= 182


def test_page_without_a_table_caption_is_not_searched_and_boxes_are_not_tables():
    doc = pymupdf.open()
    page = doc.new_page()
    _ruled_table(page, 100, 180)  # a grid, but no "Table N" caption on the page: skipped (cost)
    page2 = doc.new_page()
    page2.insert_text((72, 90), "Table 2. An empty frame.", fontsize=9)
    page2.draw_rect(pymupdf.Rect(72, 100, 400, 200))  # one cell: degenerate
    assert extract_tables(doc) == []


def test_captions_pair_one_to_one_on_the_document_side():
    class Cap:
        def __init__(self, label, bbox):
            self.label, self.bbox = label, bbox

    above, below = Cap("Table 1", (72, 90, 300, 100)), Cap("Table 2", (72, 330, 300, 340))
    tables = [(72, 105, 300, 200), (72, 220, 300, 320)]
    assert [c.label for c in assign_captions(tables, [above, below])] == ["Table 1", "Table 2"]
    # the second table has Table 2 just below it; even with captions expected above, it is not
    # given Table 1 twice
    assert assign_captions([tables[0]], [above, below], below=True)[0].label == "Table 1"


@pytest.mark.slow
@pytest.mark.corpus
def test_corpus_tables_have_text_and_labels(shared_corpus):
    pdfs, manifest = shared_corpus
    names = [m["file"] for m in manifest if m["file"] in ("paper-16.pdf", "paper-04.pdf", "paper-13.pdf")]
    found = {}
    for name in names:
        with pymupdf.open(pdfs / name) as doc:
            found[name] = extract_tables(doc, thorough=True)  # booktabs tables need the layout model
    # S2ORC (ACL): nine captioned tables, captions below the tables
    labels = [t.label for t in found["paper-16.pdf"]]
    assert {"Table 1", "Table 3", "Table 4", "Table 5", "Table 8"} <= set(labels)
    assert len(labels) == len(set(labels))
    t8 = next(t for t in found["paper-16.pdf"] if t.label == "Table 8")
    assert "PyPDF2 error" in t8.text and t8.caption.startswith("Table 8: PDFs filtered out")
    # PLOS ONE: captions above; Table 3 lists fold changes
    t3 = next(t for t in found["paper-04.pdf"] if t.label == "Table 3")
    assert "tryptophan" in t3.text and t3.page == 14
    assert all(t.text.strip() for ts in found.values() for t in ts)


def test_fast_mode_reads_ruled_tables_only(shared_corpus):
    pdfs, _ = shared_corpus
    with pymupdf.open(pdfs / "paper-04.pdf") as doc:
        ruled = extract_tables(doc)  # PLOS ONE rules its tables: the cheap line detector finds them
    assert {"Table 1", "Table 3"} <= {t.label for t in ruled}
    with pymupdf.open(pdfs / "paper-16.pdf") as doc:
        booktabs = extract_tables(doc)  # no grid: read from the caption's rules (ingest.booktabs)
    assert {"Table 1", "Table 2", "Table 8", "Table 9"} <= {t.label for t in booktabs}
    t8 = next(t for t in booktabs if t.label == "Table 8")
    assert "PyPDF2 error | 0.54M" in t8.text.splitlines() and t8.caption.startswith("Table 8: PDFs filtered out")
    by_label = {t.label: t.text for t in booktabs}  # ACL: each caption under its own table
    assert by_label["Table 3"].startswith("Total papers | 81.1M") and by_label["Table 4"].startswith("Statistic | GROBID")


@pytest.mark.corpus
def test_corpus_tables_ruled_with_horizontal_lines_only(shared_corpus):
    """Three-line tables (三线表) and booktabs: 47 tables on the corpus, 10 with a grid alone."""
    pdfs, manifest = shared_corpus
    with pymupdf.open(pdfs / "paper-01.pdf") as doc:
        (rtt,) = extract_tables(doc)
    assert rtt.label == "表1" and rtt.page == 7
    assert "MN－AP1 | 1．584 | 27．343 | 5．787" in rtt.text.splitlines()  # fullwidth as printed
    total = 0
    for item in manifest:
        with pymupdf.open(pdfs / item["file"]) as doc:
            tables = extract_tables(doc)
        total += len(tables)
        assert all(t.label and len(t.text.splitlines()) >= 2 for t in tables), item["file"]
    assert total >= 40


def _markdowns(page: pymupdf.Page, clip=None) -> list[tuple]:
    return [(tuple(round(v, 1) for v in t.bbox), table_markdown(t)) for t in find_page_tables(page, clip=clip)]


def test_ruled_region_clips_to_the_grid_and_skips_pages_of_bare_rules():
    doc = pymupdf.open()
    page = _table_page(doc, pymupdf.Rect(72, 400, 540, 700), "Body text below the table. " * 60)
    region = _ruled_region(page, page.get_bboxlog())
    assert region.contains(pymupdf.Rect(100, 180, 430, 260)) and region.get_area() < 0.5 * page.rect.get_area()
    assert _markdowns(page, region) == _markdowns(page)
    rules = doc.new_page(width=612, height=792)  # booktabs-like rules, far apart: no grid to detect
    rules.insert_text((100, 90), "Table 2. Rules only.", fontsize=9)
    for i in range(14):
        rules.draw_line((100, 100 + 20 * i), (500, 100 + 20 * i), width=0.5)
    assert _ruled_region(rules, rules.get_bboxlog()) is None
    assert [t.label for t in extract_tables(doc)] == ["Table 1"]


@pytest.mark.corpus
def test_clip_keeps_the_tables_pymupdf_finds_on_the_whole_page(shared_corpus):
    pdfs, _ = shared_corpus
    with pymupdf.open(pdfs / "paper-04.pdf") as doc:
        # Table 1's outer columns come from the frame of its joined rules, which PyMuPDF accepts
        # only with text at the mirrored height: without the mirror band the clip lost them
        for pno in (6, 13):
            page = doc[pno]
            assert _markdowns(page, _ruled_region(page, page.get_bboxlog())) == _markdowns(page)


def test_the_layout_model_loads_only_for_thorough_tables():
    """`import ingest` keeps PyMuPDF 2's layout model (an ONNX session) out of every ingest process;
    the fast table mode prints no advice to stdout (it would corrupt --json output)."""
    import subprocess
    import sys

    code = """
import sys, pymupdf
from ingest.parse import parse_pdf
from ingest.tables import find_page_tables, enable_layout
doc = pymupdf.open(); page = doc.new_page(); page.insert_text((72, 72), "Table 1. Nothing.")
find_page_tables(page)
print("fast", pymupdf._get_layout is None, "pymupdf.layout" in sys.modules and sys.modules["pymupdf.layout"] is not None)
print("thorough", enable_layout() == (pymupdf._get_layout is not None))
"""
    code = "import ingest\n" + code.replace("import sys, pymupdf", "import sys\nimport pymupdf")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["fast True False", "thorough True"], out.stdout + out.stderr


def _rules_table(page: pymupdf.Page, x0: float, y0: float, rows: list[tuple[str, ...]], font: str = "helv") -> float:
    """A table ruled with three horizontal lines only (top, under the header, bottom); its bottom y."""
    rh, cw = 18, 110
    bottom = y0 + 6 + rh * len(rows)
    for y in (y0, y0 + 4 + rh, bottom):
        page.draw_line((x0, y), (x0 + cw * len(rows[0]), y), width=0.8)
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            page.insert_text((x0 + c * cw + 6, y0 + 16 + r * rh), cell, fontsize=9, fontname=font)
    return bottom


def test_tables_ruled_with_horizontal_lines_only_are_read_as_rows():
    """A three-line table (Chinese journals, caption above) and a booktabs one (ACL, caption
    below) have no grid for PyMuPDF's line detector; they are read from their captions' rules."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_text((150, 90), "表1 实验环境中不同网络实体之间的往返时间", fontsize=9, fontname="china-s")
    _rules_table(page, 100, 100, [("对端实体", "最小值", "最大值"), ("MN-AP1", "1.584", "27.343"),
                                  ("MN-AP2", "1.437", "33.562")], font="china-s")
    page.insert_text((72, 300), "下面对移动性管理机制进行多次重复性能测试，在移动终端与有线终端完成设备注册后开始通信。",
                     fontsize=10, fontname="china-s")
    page2 = doc.new_page(width=612, height=792)
    bottom = _rules_table(page2, 100, 100, [("Filter", "Number of PDFs"), ("PyPDF2 error", "0.54M"), ("Over 50 pages", "2.27M")])
    page2.insert_text((100, bottom + 14), "Table 8: PDFs filtered out before parsing.", fontsize=9)
    page3 = doc.new_page(width=612, height=792)  # a caption far wider than its narrow table
    page3.insert_text((72, 90), "Table 9. Language models compared in this study, with the data each was "
                      "trained on and its size.", fontsize=9)
    _rules_table(page3, 330, 100, [("Model", "Data"), ("ELMO", "1BW"), ("BERT", "Wikipedia")])
    tables = extract_tables(doc)
    assert [(t.page, t.label) for t in tables] == [(1, "表1"), (2, "Table 8"), (3, "Table 9")]
    assert tables[0].text.splitlines() == ["对端实体 | 最小值 | 最大值", "MN-AP1 | 1.584 | 27.343", "MN-AP2 | 1.437 | 33.562"]
    assert tables[1].text.splitlines()[1] == "PyPDF2 error | 0.54M"
    assert "移动性管理机制" not in tables[0].text  # the paragraph under the bottom rule is not a row


def test_prose_between_rules_under_a_table_caption_is_no_table():
    """Rules that frame a paragraph (a boxed note, a page's header and footer rules) under a
    caption are not a table: their band reads as prose, one full-width line a row."""
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    page.insert_text((72, 90), "Table 2. Mean yields (see the supplement).", fontsize=9)
    page.draw_line((72, 100), (540, 100), width=0.5)
    for i in range(5):
        page.insert_text((72, 116 + 14 * i), "The yields of every plot were averaged over the three seasons we "
                         "report here.", fontsize=10)
    page.draw_line((72, 190), (540, 190), width=0.5)
    assert extract_tables(doc) == []


def test_a_caption_under_its_table_does_not_take_the_next_tables_rules():
    """ACL prints "Table 3: ..." under its table and Table 4's top rule right under that caption:
    the nearer rule, over the caption, is its table's (Table 3 had been given Table 4's rows)."""
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    bottom = _rules_table(page, 100, 100, [("Total papers", "81.1M"), ("Papers w/ PDF", "28.9M")])
    page.insert_text((100, bottom + 12), "Table 3: Statistics on paper provenance.", fontsize=9)
    bottom = _rules_table(page, 100, bottom + 22, [("Statistic", "GROBID"), ("Paragraphs", "9.9")])
    page.insert_text((100, bottom + 12), "Table 4: Extraction statistics.", fontsize=9)
    tables = {t.label: t.text.splitlines() for t in extract_tables(doc)}
    assert tables["Table 3"][0] == "Total papers | 81.1M"
    assert tables["Table 4"][0] == "Statistic | GROBID"
