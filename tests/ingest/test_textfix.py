"""Kerning-split words are rejoined; real words, panel letters and units are left alone; Founder
Latin fonts' glyphs are read as the symbols they stand for."""
from collections import Counter

import pymupdf
import pytest

from ingest.parse import parse_pdf
from ingest.textfix import read_founder_glyph, rejoin_split_words, repair_founder_glyphs


@pytest.mark.parametrize("split, whole", [
    ("We ha v e constructed a strain", "We have constructed a strain"),
    ("in addition to pre viously kno wn RlmE", "in addition to previously known RlmE"),
    ("due t o the le v el of F r an ce", "due to the level of France"),
    ("o f the cells, a n d the", "of the cells, and the"),
    # a split after a hyphen (a corpus title: "... at the sub-g ene scale due to ...")
    ("at the sub-g ene scale", "at the sub-gene scale"),
    ("each cross-v alidation round", "each cross-validation round"),
])
def test_split_words_are_rejoined(split, whole):
    assert rejoin_split_words(split, Counter()) == whole


@pytest.mark.parametrize("text", [
    "as a new tool, a and B for panel C",
    "Fig. 2 b and c show the 3 h of incubation",
    "is a key step in a per cell way",
    "in a T-cell line, sent by e-mail, 2-b and c",  # the part before a hyphen never joins
    "基于可编程平台的标识网络",
])
def test_real_words_and_labels_are_kept(text):
    assert rejoin_split_words(text, Counter()) == text


def test_document_counts_admit_domain_words():
    counts = Counter({"rlmkl": 4})
    assert rejoin_split_words("RlmB and Rlm KL act", counts) == "RlmB and RlmKL act"


@pytest.mark.parametrize("glyph, meant", [
    ("摇", " "), ("郾", "."), ("鄄", "-"), ("蒺", "\u2019"),  # space, period, hyphen, apostrophe
    ("臆", "≤"), ("沂", "∈"), ("伊", "×"), ("冶", "\u201d"),  # GB2312 row A1 (punctuation, math)
    ("猿", "3"), ("越", "="), ("渊", "("),  # row A3 (full-width ASCII)
    ("酌", "γ"), ("姿", "λ"), ("驻", "Δ"),  # row A6 (Greek)
    ("关", "关"), ("谆", "谆"),  # a Chinese character outside those rows; a gap in the Greek row
])
def test_founder_glyphs_stand_for_symbols(glyph, meant):
    assert read_founder_glyph(glyph) == meant


def test_founder_latin_font_is_read_as_printed_and_chinese_fonts_are_untouched(pdf):
    """A real PDF whose Latin font is named like Founder's ("ABCDEF+E-BZ"); beside it, the same
    characters in a Chinese font are Chinese ("摇摆" sway, "郾城" a town) and stay."""
    page = pdf.new_page()
    page.insert_font(fontname="F0", fontbuffer=pymupdf.Font("china-s").buffer)
    for y, text in ((100, "3郾3 GHz, 8 GB, t + 1臆n, consumer蒺s"), (115, "酌")):
        page.insert_text((50, y), text, fontname="F0")
    page.insert_text((50, 130), "摇摆的郾城", fontname="china-s")
    page.insert_text((50, 145), "仿真环境在郾城", fontname="F0")  # Chinese in a font named like Founder's
    doc = pdf.doc
    for xref in range(1, doc.xref_length()):
        if doc.xref_get_key(xref, "BaseFont")[1].startswith("/Droid"):
            doc.xref_set_key(xref, "BaseFont", "/ABCDEF+E-BZ")
    path = pdf.save()
    with pymupdf.open(path) as saved:
        info = repair_founder_glyphs(saved[0].get_text("dict"))
    texts = [s["text"] for b in info["blocks"] for ln in b["lines"] for s in ln["spans"]]
    assert texts == ["3.3 GHz, 8 GB, t + 1≤n, consumer\u2019s", "γ", "摇摆的郾城", "仿真环境在郾城"]
    parsed = "\n".join(b.text for b in parse_pdf(path).blocks)
    assert "3.3 GHz" in parsed and "1≤n" in parsed and "摇摆的郾城" in parsed


def test_corpus_founder_paper_reads_its_numbers_and_symbols(shared_corpus):
    folder, _ = shared_corpus
    paper = parse_pdf(folder / "paper-28.pdf")  # J. BUPT, typeset with Founder fonts
    text = "\n".join(b.text for b in paper.blocks)
    assert not set("郾鄄摇臆沂蒺") & set(text)
    for printed in ("3.3 GHz Intel Core i5-4590", "Ubuntu 16.04", "v6.2.0", "secret sharing", "consumer\u2019s",
                    "t + 1≤n", "对称密钥γ"):
        assert printed in text, printed
    assert paper.metadata.doi == "10.13190/j.jbupt.2020-203"


def test_a_kerning_split_word_before_a_hyphen_is_rejoined():
    """NAR's headings: "h ypometh ylation-associated" (the piece before the hyphen ends the run);
    a single letter before a hyphen ("a C-terminal", "to N-domain") stays apart."""
    from collections import Counter

    from ingest.textfix import rejoin_split_words

    counts = Counter({"hypomethylation": 30, "methylation": 50})
    assert rejoin_split_words("in DNA h ypometh ylation-associated coldspots", counts) == \
        "in DNA hypomethylation-associated coldspots"
    assert rejoin_split_words("with a C-terminal region, binding to N-domain ACE", counts) == \
        "with a C-terminal region, binding to N-domain ACE"


def test_a_section_name_split_in_five_is_rejoined():
    """NAR kerns its back-matter heading into "A c kno wledg ements": five pieces, and a word the
    WordPiece vocabulary lacks whole; read so, its text was not known as back matter."""
    from collections import Counter

    from ingest.textfix import rejoin_split_words

    assert rejoin_split_words("A c kno wledg ements", Counter()) == "Acknowledgements"


def test_corpus_nar_acknowledgements_are_named(shared_corpus):
    from ingest.parse import parse_pdf

    folder, _ = shared_corpus
    for name in ("paper-02.pdf", "paper-10.pdf"):
        assert any(b.kind == "heading" and b.text == "Acknowledgements" for b in parse_pdf(folder / name).blocks), name
