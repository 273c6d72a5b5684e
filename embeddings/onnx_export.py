"""Exports a local sentence-transformers model to ONNX (fp32, graph-optimised, int8) once, offline.

The whole SentenceTransformer pipeline (transformer + pooling + any Dense/Normalize module) is traced
into one graph whose output is `sentence_embedding`, so the runtime needs only onnxruntime, the fast
tokenizer and numpy. Files land in a cache directory keyed by the model's own files and are written
atomically (temporary name in the same directory, then `os.replace`), so a crash or a concurrent
exporter never leaves a half-written model behind.

Why not sentence-transformers' `backend="onnx"` / `export_dynamic_quantized_onnx_model`: both need
`optimum[onnxruntime]`, whose only release line (optimum 2.1 + optimum-onnx 0.1) pins
transformers<4.58 and huggingface_hub<1, while sentence-transformers 6.2 here runs on transformers
5.23. The same two steps are done directly: `torch.onnx.export` (TorchScript exporter) and
`onnxruntime.quantization.quantize_dynamic`; the fusion step optimum would run is onnxruntime's own
`onnxruntime.transformers.optimizer`.

Left out: static (calibrated) quantisation, GPU providers, models whose tokenizer is not "fast".
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

# Bump when the export recipe changes so old cache entries are not reused.
EXPORT_VERSION = 2
OPSET = 17
VARIANTS = ("fp32", "opt", "int8", "opt-int8")


def fingerprint_model_dir(model_dir: Path) -> str:
    """Hash the small config files and the weight files' sizes: cheap, and changes with the model."""
    digest = hashlib.sha256(f"export-v{EXPORT_VERSION}".encode())
    for path in sorted(model_dir.rglob("*")):
        if not path.is_file() or path.suffix == ".onnx" or ".cache" in path.parts:
            continue
        digest.update(str(path.relative_to(model_dir)).encode())
        if path.suffix in {".json", ".txt"} and path.stat().st_size < 2_000_000:
            digest.update(path.read_bytes())
        else:  # weights: hashing 90 MB on every start would cost ~0.3 s; size is enough here
            digest.update(str(path.stat().st_size).encode())
    return digest.hexdigest()[:16]


def write_atomically(dest: Path, write: Callable[[Path], None]) -> Path:
    """Run `write(tmp_path)` then rename tmp -> dest, so readers see either nothing or the file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def export_fp32(model_dir: Path, dest: Path, threads: int) -> dict:
    """Trace the full SentenceTransformer into an ONNX graph; return its metadata."""
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    # Eager attention traces to the MatMul/Softmax pattern that onnxruntime's optimiser fuses into
    # one Attention op; the SDPA trace is left unfused (48 MatMuls remained, no speed-up).
    st = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True,
                             model_kwargs={"attn_implementation": "eager"})
    tokenizer = st.tokenizer
    names = [n for n in tokenizer.model_input_names if n in ("input_ids", "attention_mask", "token_type_ids")]

    class Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.st = st

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            return self.st(dict(zip(names, tensors)))["sentence_embedding"]

    # Two texts of different lengths so the traced graph sees real padding.
    sample = tokenizer(["an example sentence for tracing the graph", "short"], padding=True, return_tensors="pt")
    dynamic = {name: {0: "batch", 1: "sequence"} for name in names}
    dynamic["sentence_embedding"] = {0: "batch"}

    def write(tmp: Path) -> None:
        with torch.no_grad(), warnings.catch_warnings():
            # TracerWarnings about shape checks that are constant for encoders (mask length == seq)
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Pipeline().eval(), tuple(sample[n] for n in names), str(tmp),
                input_names=names, output_names=["sentence_embedding"], dynamic_axes=dynamic,
                opset_version=OPSET, dynamo=False,  # the dynamo exporter needs onnxscript; not installed
            )

    write_atomically(dest, write)
    config = st[0].auto_model.config
    return {
        "inputs": names,
        "dim": int(embedding_dimension(st)),
        "max_seq_length": int(st.max_seq_length),
        "num_heads": int(getattr(config, "num_attention_heads", 0)),
        "hidden_size": int(getattr(config, "hidden_size", 0)),
        "model_type": str(getattr(config, "model_type", "")),
    }


def embedding_dimension(st) -> int:
    """sentence-transformers 6 renamed get_sentence_embedding_dimension; accept both."""
    getter = getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension
    return int(getter())


def optimize_graph(src: Path, dest: Path, meta: dict) -> None:
    """Fuse attention / LayerNorm / GELU with onnxruntime's transformer optimiser (optimum's O2)."""
    from onnxruntime.transformers.optimizer import optimize_model

    model_type = "bert" if meta["model_type"] in ("bert", "") else meta["model_type"]
    optimized = optimize_model(
        str(src), model_type=model_type, num_heads=meta["num_heads"], hidden_size=meta["hidden_size"],
        opt_level=1, use_gpu=False,  # level 1 fusions are portable; level 2 ones get baked per-CPU
    )
    write_atomically(dest, lambda tmp: optimized.save_model_to_file(str(tmp)))


def quantize_graph(src: Path, dest: Path) -> None:
    """Dynamic int8 quantisation of the weights (activations quantised on the fly per batch)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    def write(tmp: Path) -> None:
        # per_channel keeps each output column's own scale: cosine to fp32 0.99+ instead of ~0.97
        # with one scale per tensor; QInt8 weights are what the avx2/avx512 VNNI kernels want.
        quantize_dynamic(
            str(src), str(tmp), weight_type=QuantType.QInt8, per_channel=True,
            # fused contrib ops (FastGelu, Attention) defeat shape inference; their outputs are float
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )

    write_atomically(dest, write)


def ensure_onnx_model(model_dir: Path, variant: str, cache_dir: Path, threads: int = 2) -> tuple[Path, dict]:
    """Return (onnx file, metadata) for `variant`, exporting into `cache_dir` on first use only."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown ONNX variant {variant!r}; expected one of {VARIANTS}")
    folder = cache_dir / f"{model_dir.name}-{fingerprint_model_dir(model_dir)}"
    meta_path = folder / "meta.json"
    fp32 = folder / "model.onnx"
    if not (fp32.exists() and meta_path.exists()):
        log.info("exporting %s to ONNX in %s (once)", model_dir, folder)
        meta = export_fp32(model_dir, fp32, threads)
        write_atomically(meta_path, lambda tmp: tmp.write_text(json.dumps(meta, indent=1)))
    meta = json.loads(meta_path.read_text())

    opt = folder / "model_opt.onnx"
    if variant in ("opt", "opt-int8") and not opt.exists():
        optimize_graph(fp32, opt, meta)
    source = opt if variant.startswith("opt") else fp32
    if variant.endswith("int8"):
        target = folder / f"model_{variant.replace('-', '_')}.onnx"
        if not target.exists():
            log.info("quantising %s to int8", source.name)
            quantize_graph(source, target)
        return target, meta
    return source, meta
