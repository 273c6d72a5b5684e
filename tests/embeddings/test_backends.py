"""Implementation details behind the contract: factory, lazy loading, the ONNX export cache, hashing.

Fast tests use the hashing embedder and subprocesses; tests that export or load MiniLM are slow.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from embeddings import BACKENDS, DEFAULT_BACKEND, HashingEmbedder, SentenceTransformerEmbedder, build_embedder
from embeddings.hashing import tokenize
from embeddings.sentence import default_cache_dir, sort_by_length

REPO = Path(__file__).resolve().parents[2]


def test_factory_names():
    assert isinstance(build_embedder("hashing"), HashingEmbedder)
    default = build_embedder("minilm", "", "/tmp/x")
    assert isinstance(default, SentenceTransformerEmbedder)
    assert default.backend == DEFAULT_BACKEND
    assert build_embedder("", "torch").id == "sentence-transformers/all-MiniLM-L6-v2@torch"
    assert build_embedder("/some/local/model", "onnx").model == "/some/local/model"


def test_constructor_stores_config_only():
    """No model, tokenizer or file access until first use; unknown backends fail early."""
    embedder = SentenceTransformerEmbedder(model="/does/not/exist", backend="onnx")
    assert embedder.id == "/does/not/exist@onnx"
    with pytest.raises(ValueError, match="unknown embedding backend"):
        SentenceTransformerEmbedder(backend="tensorrt")  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError, match="never downloads"):
        SentenceTransformerEmbedder(model="no-such-model-anywhere").count_tokens(["x"])


def test_int8_backends_embed_one_text_per_pass_unless_told():
    assert SentenceTransformerEmbedder(backend="onnx-opt-int8").batch_size == 1
    assert SentenceTransformerEmbedder(backend="onnx-int8").batch_size == 1
    assert SentenceTransformerEmbedder(backend="torch").batch_size == 32
    assert SentenceTransformerEmbedder(backend="onnx-opt-int8", batch_size=16).batch_size == 16
    assert build_embedder("minilm", "", None, 0).batch_size == 1  # settings' 0 means automatic


def test_a_vector_does_not_depend_on_the_texts_embedded_with_it(minilm):
    """int8 activations are quantized per batch: with batch-mates a text got another vector."""
    texts = ["Ribosome assembly stalled without RlmE.", "The doubling time of the strain was 90 minutes at 30 degrees "
             "Celsius in rich medium, and longer in minimal medium.", "本研究提出了一种新的标识网络。"]
    alone = minilm.embed_documents([texts[0]])[0]
    together = minilm.embed_documents(texts)[0]
    assert np.array_equal(alone, together)


def test_ids_differ_per_backend():
    assert len({SentenceTransformerEmbedder(backend=b).id for b in BACKENDS}) == len(BACKENDS)


def test_default_dim_and_max_tokens_need_no_model():
    embedder = SentenceTransformerEmbedder()
    assert embedder.dim == 384
    assert embedder._runner is None


def test_importing_does_not_import_torch():
    code = "import sys, embeddings, embeddings.sentence; print('torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_cache_dir_is_overridable(monkeypatch, tmp_path):
    monkeypatch.setenv("SOUWEN_CACHE_DIR", str(tmp_path))
    assert default_cache_dir() == tmp_path
    monkeypatch.delenv("SOUWEN_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "souwen"


def test_sort_by_length_is_longest_first_and_stable():
    assert sort_by_length([3, 10, 3, 7]).tolist() == [1, 3, 0, 2]


def test_hashing_tokens_split_cjk_characters():
    assert tokenize("BERT 模型很好, naïve") == ["bert", "模", "型", "很", "好", "naïve"]
    assert HashingEmbedder().count_tokens(["检索增强生成 RAG"]) == [7]


def test_hashing_is_stable_across_processes():
    """sha256, not Python's salted hash(): vectors survive a restart (and PYTHONHASHSEED)."""
    code = "from embeddings import HashingEmbedder; print(HashingEmbedder().embed_query('stable ids 稳定').tobytes().hex())"
    runs = {subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout for seed in ("1", "2")}
    assert len(runs) == 1
    assert bytes.fromhex(runs.pop().strip()) == HashingEmbedder().embed_query("stable ids 稳定").tobytes()


@pytest.mark.slow
def test_count_tokens_matches_hf_tokenizer():
    embedder = build_embedder("minilm", "torch")
    texts = ["Ribosomal RNA modification enzymes (Δ10) at 37 °C", "基于可编程平台的标识网络", "naïve ﬁeld"]
    expected = [len(ids) for ids in embedder.tokenizer(texts, add_special_tokens=False)["input_ids"]]
    assert embedder.count_tokens(texts) == expected
    assert embedder.max_tokens == 254  # 256 positions minus [CLS] and [SEP]
    offsets = embedder.tokenizer(texts[0], add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    assert offsets[0] == (0, 3)


@pytest.mark.slow
def test_onnx_export_is_cached_atomic_and_close_to_torch(tmp_path):
    texts = ["The cat sat on the mat.", "Ribosome assembly needs rRNA modification enzymes."]
    reference = build_embedder("minilm", "torch").embed_documents(texts)
    first = SentenceTransformerEmbedder(backend="onnx-opt-int8", cache_dir=tmp_path)
    vectors = first.embed_documents(texts)
    assert np.min(np.sum(vectors * reference, axis=1)) > 0.97
    files = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()}
    assert not [p for p in files if p.name.endswith(".tmp")]
    assert any(p.name == "model_opt_int8.onnx" for p in files)
    again = SentenceTransformerEmbedder(backend="onnx-opt-int8", cache_dir=tmp_path)
    np.testing.assert_array_equal(again.embed_documents(texts), vectors)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file()} == files  # not re-exported
