"""Figures: PDFs drawn with PyMuPDF inside each test, plus the acceptance targets on the shared corpus."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pymupdf
import pytest

from assistant.types import TextBlock
from ingest.captions import find_captions, parse_caption_start, read_text
from ingest.figures import extract_figures

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"


def _photo(w: int = 240, h: int = 160) -> bytes:
    """A colourful raster image (a gradient), PNG-encoded."""
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, w, h), False)
    for y in range(0, h, 8):
        for x in range(0, w, 8):
            pix.set_rect(pymupdf.IRect(x, y, x + 8, y + 8), ((x * 255) // w, (y * 255) // h, 128))
    return pix.tobytes("png")


def _logo() -> bytes:
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 40, 40), False)
    pix.set_rect(pix.irect, (200, 30, 30))
    return pix.tobytes("png")


def _body(page: pymupdf.Page, y: float, text: str) -> None:
    page.insert_textbox(pymupdf.Rect(72, y, 540, y + 60), text, fontsize=10)


def _chart(page: pymupdf.Page, x0: float, y0: float) -> None:
    """A vector bar chart with a curve, axes and tick labels (about 200 x 150 pt)."""
    shape = page.new_shape()
    shape.draw_line((x0, y0), (x0, y0 + 150))
    shape.draw_line((x0, y0 + 150), (x0 + 220, y0 + 150))
    shape.finish(color=(0, 0, 0), width=1)
    for i, h in enumerate((60, 110, 85, 130, 40)):
        shape.draw_rect(pymupdf.Rect(x0 + 15 + i * 40, y0 + 150 - h, x0 + 40 + i * 40, y0 + 150))
        shape.finish(fill=(0.2, 0.4, 0.8), color=None)
    shape.draw_bezier((x0, y0 + 140), (x0 + 60, y0 + 20), (x0 + 140, y0 + 120), (x0 + 215, y0 + 10))
    shape.finish(color=(0.9, 0.1, 0.1), width=1.5)
    for i in range(5):
        shape.draw_line((x0 + 27 + i * 40, y0 + 150), (x0 + 27 + i * 40, y0 + 154))
    shape.finish(color=(0, 0, 0), width=0.5)
    shape.commit()
    for i in range(5):
        page.insert_text((x0 + 22 + i * 40, y0 + 164), f"G{i + 1}", fontsize=7)
    page.insert_text((x0 - 14, y0 + 90), "Yield (t/ha)", fontsize=7, rotate=90)


def _paper() -> pymupdf.Document:
    """Three pages: raster figure, vector chart, text only; the same logo on each page."""
    doc = pymupdf.open()
    for n in range(3):
        page = doc.new_page(width=612, height=792)
        page.insert_image(pymupdf.Rect(40, 20, 60, 40), stream=_logo())  # the journal's logo
        page.insert_text((72, 36), "Journal of Tests 12 (2024)", fontsize=8)
        if n == 0:
            _body(page, 60, "We grew wheat in four plots and photographed the plots weekly. " * 3)
            page.insert_image(pymupdf.Rect(150, 140, 450, 340), stream=_photo())
            page.insert_text((150, 360), "Figure 1. Plots photographed after two weeks.", fontsize=9)
            page.insert_text((150, 372), "Each plot received a different fertiliser.", fontsize=9)
            _body(page, 400, "The plots differed clearly. As shown in Fig. 1, the plants in plot A grew fastest. "
                  "Later growth slowed in every plot.")
        elif n == 1:
            _body(page, 60, "Yields are compared in the chart below; the curve shows the trend. " * 2)
            _chart(page, 180, 140)
            page.insert_text((160, 330), "Fig. 2 Yield of the five genotypes in 2023.", fontsize=9)
        else:
            _body(page, 60, "Discussion. The yields agree with earlier reports from the same region. " * 6)
    return doc


def test_raster_figure_is_paired_with_its_full_caption_and_mentions():
    doc = _paper()
    blocks = [TextBlock(page=1, text="The plots differed clearly. As shown in Fig. 1, the plants in plot A grew "
                                     "fastest. Later growth slowed in every plot.")]
    figures = extract_figures(doc, blocks)
    raster = [f for f in figures if f.kind == "raster"]
    assert len(raster) == 1
    fig = raster[0]
    assert fig.page == 1 and fig.label == "Figure 1"
    assert fig.caption == "Figure 1. Plots photographed after two weeks. Each plot received a different fertiliser."
    assert fig.mentions == ("As shown in Fig. 1, the plants in plot A grew fastest.",)
    assert fig.png.startswith(b"\x89PNG") and fig.width > 500 and fig.height > 300
    assert pymupdf.Pixmap(fig.png).width == fig.width
    x0, y0, x1, y1 = fig.bbox  # the image, not the caption below it nor the body text above it
    assert 140 <= x0 <= 152 and 130 <= y0 <= 142 and 448 <= x1 <= 460 and 338 <= y1 < 350


def test_vector_chart_is_one_figure_with_its_labels():
    figures = extract_figures(_paper(), [])
    vector = [f for f in figures if f.kind == "vector"]
    assert len(vector) == 1
    fig = vector[0]
    assert fig.page == 2 and fig.label == "Figure 2" and fig.caption.startswith("Fig. 2 Yield")
    x0, y0, x1, y1 = fig.bbox
    assert x0 < 168 and y1 > 303  # the rotated axis title and the tick labels are inside the crop
    assert y1 < 330 and y0 > 120  # but not the caption nor the body text


def test_repeated_logo_and_text_only_page_give_no_figure():
    figures = extract_figures(_paper(), [])
    assert len(figures) == 2
    assert all(f.bbox[1] > 50 for f in figures)  # the logo at the top of every page is dropped
    assert 3 not in {f.page for f in figures}


def test_text_only_document_has_no_figures():
    doc = pymupdf.open()
    page = doc.new_page()
    _body(page, 72, "Methods. We reviewed 40 trials. " * 10)
    page.draw_line((72, 200), (540, 200))  # a rule between sections
    page.draw_rect(pymupdf.Rect(70, 220, 542, 300))  # a box around the key points
    _body(page, 230, "Key points: prophylaxis reduces thrombosis; bleeding is rare in every trial we read.")
    assert extract_figures(doc, []) == []


def test_chinese_caption_and_multi_panel_raster_figure():
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    for i in range(3):  # three panel images side by side, 4 pt apart: one figure
        page.insert_image(pymupdf.Rect(100 + i * 134, 200, 230 + i * 134, 330), stream=_photo(120, 120))
    page.insert_text((230, 350), "图1 三种处理下的小麦长势", fontsize=9, fontname="china-s")
    page.insert_text((80, 400), "如图1所示，处理A的长势最好。", fontsize=10, fontname="china-s")
    blocks = [TextBlock(page=1, text="如图1所示，处理A的长势最好。其余处理相近。")]
    figures = extract_figures(doc, blocks)
    assert len(figures) == 1
    fig = figures[0]
    assert fig.label == "图1" and fig.caption == "图1 三种处理下的小麦长势"
    assert fig.mentions == ("如图1所示，处理A的长势最好。",)
    assert fig.bbox[0] < 102 and fig.bbox[2] > 498  # all three panels


def test_caption_starts_are_told_from_body_references():
    assert parse_caption_start("Figure 3. Growth curves")[:3] == ("figure", "3", "Figure 3")
    assert parse_caption_start("FIG 2 Signatures of foreign DNA")[2] == "Figure 2"
    assert parse_caption_start("Fig. 1 | Origin of eukaryotic EF-1A")[2] == "Figure 1"
    assert parse_caption_start("Figure S2 GRID molecular fields")[2] == "Figure S2"
    assert parse_caption_start("Table 2: Post-processing filters")[:3] == ("table", "2", "Table 2")
    assert parse_caption_start("图 3  原型系统拓扑")[2] == "图3"
    assert parse_caption_start("表1摇符号描述")[2] == "表1"
    for body in ("Figure 3 shows the growth", "Figure 1). Surprisingly", "Fig. 3b, Supplementary",
                 "FIG1p-GFP sst2", "图6 所示。数据平面", "表1 中主要展示了", "Table 1 is presenting",
                 "Figure 1 A). The", "Figure 1 continued on next page"):
        assert parse_caption_start(body) is None, body


def test_a_figures_supplements_and_videos_are_items_of_their_own():
    assert parse_caption_start("Figure 3—video 2. Representative example")[:3] == ("figure", "3—video 2", "Figure 3—video 2")
    assert parse_caption_start("Figure 1—figure supplement 2. Intron dispersal")[2] == "Figure 1—figure supplement 2"
    assert parse_caption_start("Figure 2—source data 1. Raw counts")[2] == "Figure 2—source data 1"
    assert parse_caption_start("Figure 4—figure supplement 1A). We found, however") is None  # body text


def test_a_figures_own_caption_is_kept_beside_more_video_legends_in_another_style():
    """eLife prints "Figure 3. ..." under the figure and lists "Figure 3—video 1. ..." on the next
    page: read as "Figure 3" in a style more frequent than the figure's own, the videos' legends
    pushed the caption out and the figure took a video's legend."""
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_image(pymupdf.Rect(72, 72, 500, 400), stream=_photo())
    # a font with the em dash (the base-14 fonts print it as "·")
    page.insert_text((72, 420), "Figure 3. Live-cell imaging corroborates a slow-moving zone.", fontsize=8, fontname="china-s")
    page = doc.new_page()
    for i in range(1, 4):
        page.insert_text((72, 60 + 26 * i), f"Figure 3—video {i}. Representative example of live-cell videos.", fontsize=8,
                         fontname="china-s")
    caps = [c for page in find_captions(read_text(doc)) for c in page]
    assert [c.label for c in caps] == ["Figure 3"] + [f"Figure 3—video {i}" for i in range(1, 4)]
    [figure] = extract_figures(doc, [])
    assert figure.page == 1 and figure.caption.startswith("Figure 3. Live-cell imaging")


def test_duplicate_label_in_a_foreign_style_is_dropped():
    doc = pymupdf.open()
    for text in ("Table 4: Extraction statistics", "Table 5: Accuracy", "Table 4. On average, parses contain"):
        page = doc.new_page()
        page.insert_text((72, 100), text, fontsize=10)
    caps = [c for page in find_captions(read_text(doc)) for c in page]
    assert [c.text for c in caps] == ["Table 4: Extraction statistics", "Table 5: Accuracy"]


# --- the shared corpus ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_figures():
    if not (CORPUS / "manifest.json").is_file():
        pytest.skip(f"shared corpus not found at {CORPUS} (it lives beside the project, never in it)")
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    out, t0 = {}, time.process_time()
    for item in manifest:
        with pymupdf.open(CORPUS / "pdfs" / item["file"]) as doc:
            out[item["file"]] = (item, extract_figures(doc, []))
    return out, time.process_time() - t0


@pytest.mark.slow
@pytest.mark.corpus
def test_corpus_every_illustrated_paper_has_a_figure_and_the_text_only_one_none(corpus_figures):
    papers, _ = corpus_figures
    for name, (item, figures) in papers.items():
        if item["has_figures"]:
            assert figures, f"{name}: has figures, none found"
        else:
            assert not figures, f"{name}: text-only paper, {len(figures)} figure(s) found"


@pytest.mark.slow
@pytest.mark.corpus
def test_corpus_captions_are_paired(corpus_figures):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from eval.score_figures import caption_numbers  # the scorer's own, independent caption regex

    papers, _ = corpus_figures
    in_text = paired = 0
    for name, (item, figures) in papers.items():
        with pymupdf.open(CORPUS / "pdfs" / name) as doc:
            numbers = caption_numbers(doc)
        labels = {f.label.replace("Figure ", "").replace("图", "") for f in figures if f.label}
        in_text += len(numbers)
        paired += len(numbers & labels)
    assert in_text > 150 and paired / in_text >= 0.8, f"{paired}/{in_text} figure captions paired"


@pytest.mark.slow
@pytest.mark.corpus
def test_corpus_figures_are_real_pngs_and_fast_enough(corpus_figures):
    papers, seconds = corpus_figures
    figures = [f for _, figs in papers.values() for f in figs]
    assert 150 <= len(figures) <= 260
    for f in figures:
        pix = pymupdf.Pixmap(f.png)
        assert (pix.width, pix.height) == (f.width, f.height) and min(f.width, f.height) >= 40
    assert seconds < 60, f"{seconds:.1f} s of CPU for the corpus' figures"


def test_a_legend_continued_overleaf_is_read_whole_without_its_markers():
    """eLife ends a long legend with "Figure 2 continued on next page" and goes on under a
    "Figure 2 continued" head at the top of the next page (a running header above it)."""
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_image(pymupdf.Rect(72, 72, 500, 400), stream=_photo())
    for k, text in enumerate(["Figure 2. Transcripts dwell at the site of transcription.",
                              "(A) Probe design. (B) Images, each a max merge of 30 optical",
                              "Figure 2 continued on next page"]):
        page.insert_text((72, 420 + 10 * k), text, fontsize=8)
    page = doc.new_page()
    page.insert_text((72, 40), "Chromosomes and Gene Expression | Research article", fontsize=8)
    for k, text in enumerate(["Figure 2 continued", "z-sections. (C) Simulated RNA FISH signal for three scenarios."]):
        page.insert_text((72, 70 + 10 * k), text, fontsize=8)
    page.insert_text((72, 140), "Body text of the results goes on here in the larger type of the paper.", fontsize=10)
    [figure] = extract_figures(doc, [])
    assert figure.caption == ("Figure 2. Transcripts dwell at the site of transcription. (A) Probe design. (B) Images, "
                              "each a max merge of 30 optical z-sections. (C) Simulated RNA FISH signal for three "
                              "scenarios."), figure.caption


@pytest.mark.corpus
def test_corpus_elife_legends_are_read_across_the_page(corpus_figures):
    papers, _ = corpus_figures
    _, figures = papers["paper-20.pdf"]
    legend = next(f.caption for f in figures if f.label == "Figure 2")
    assert "simulated RNA FISH signal for three potential scenarios" in legend
    assert "continued" not in legend


def test_a_caption_set_in_two_columns_is_read_column_by_column():
    """Springer's and Nature Communications' legends under a full-width figure run in two columns:
    the left column's lines first, then the right column's, not row by row (the first row had run
    on into the right column, "(a, b) Representa- are in μmol/l)", and both columns' rest was lost).
    A short figure label beside the caption's first line is neither a column of it nor its words."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_image(pymupdf.Rect(50, 80, 545, 400), stream=_photo(400, 260))
    left = ["Fig. 2 Activation of KATP currents by MgADP. (a, b) Representa-",
            "tive current traces for wild-type (a) and mutant (b) channels",
            "recorded at -60 mV from inside-out patches excised from cells",
            "and exposed to 100 umol/l MgATP in the bath solution, with"]
    right = ["or without MgADP (as indicated by the bars, values are in",
             "umol/l). The zero-current level (I=0) is shown by the dashed",
             "lines. (c) Current amplitude (I) as a fraction of the maximum",
             "current in the same patch for wild-type and mutant channels."]
    for k, (a, b) in enumerate(zip(left, right)):
        page.insert_text((51, 420 + 10 * k), a, fontsize=8)
        page.insert_text((306, 420 + 10 * k), b, fontsize=8)
    page.insert_text((60, 470), "Body text follows the figure in two columns, set in a larger size than its legend.", fontsize=10)
    caption = find_captions(read_text(doc))[0][0].text
    assert caption.startswith("Fig. 2 Activation of KATP currents by MgADP. (a, b) Representative current traces")
    assert "in the bath solution, with or without MgADP" in caption
    assert caption.endswith("same patch for wild-type and mutant channels.") and "Body text" not in caption
    # a label of the figure beside the first line: the caption goes on in its own column
    doc2 = pymupdf.open()
    page = doc2.new_page(width=595, height=842)
    page.insert_text((51, 420), "Figure 5 Crystal structure of the N-domain ACE in complex with com-", fontsize=8)
    end = 51 + pymupdf.get_text_length("Figure 5 Crystal structure of the N-domain ACE in complex with com-", fontsize=8)
    page.insert_text((end + 27, 422.7), "Tyr369", fontsize=8)  # as paper-29 sets it: 27 pt right, 2.7 pt lower
    page.insert_text((51, 430), "pound 33RE shown as cartoon.", fontsize=8)
    page.insert_text((end + 27, 435.5), "Water 3", fontsize=8)
    label_beside = find_captions(read_text(doc2))[0][0].text
    assert label_beside == "Figure 5 Crystal structure of the N-domain ACE in complex with compound 33RE shown as cartoon."


@pytest.mark.slow
@pytest.mark.corpus
def test_corpus_legends_are_read_whole(corpus_figures):
    papers, _ = corpus_figures
    springer = {f.label: f.caption for f in papers["paper-27.pdf"][1]}
    assert "Representative current traces for wild-type (a) and hetKir6.2-S118L/SUR1" in springer["Figure 2"]
    assert "values are in μmol/l). The zero-current level" in springer["Figure 2"]
    nature = {f.label: f.caption for f in papers["paper-32.pdf"][1]}
    assert "a Amino acid sequence alignment of AncEF-1A" in nature["Figure 2"]
    ace = {f.label: f.caption for f in papers["paper-29.pdf"][1]}  # a label "Tyr369" beside the first line
    assert ace["Figure 5"].startswith("Figure 5 Crystal structure of N-domain ACE in complex with compound 33RE ACE is shown")
    assert nature["Figure 2"].endswith("Domain 3 of the AncEF-1A are shown.")
    # line boxes that overlap (IOP), a body line in larger type beside the legend (PNAS)
    iop = {f.label: f.caption for f in papers["paper-08.pdf"][1]}
    assert "supplement from germinated wheat with a different ratio of incoming components (M ± m)" in iop["Figure 7"]
    pnas = {f.label: f.caption for f in papers["paper-06.pdf"][1]}
    assert "replication stress response. When cells are under replication stress" in pnas["Figure 7"]
    assert pnas["Figure 4"].endswith("*P < 0.05, N = 3.") and len(pnas["Figure 4"]) > 2700  # a long legend whole
    science = {f.label: f.caption for f in papers["paper-21.pdf"][1]}  # a 9 pt title over 10 pt panels
    assert "(A) The tumor microenvironment (TME) acts to suppress T cell activation" in science["Figure 1"]
    assert "KPC CD19+ pancreatic tumors were engrafted subcutaneously" in science["Figure 3"]


def test_a_legend_whose_line_boxes_overlap_keeps_every_line():
    """IOP sets 11 pt legends on a 12.6 pt leading, tighter than the lines' 14.7 pt boxes: every
    other line had been taken for the same row as the one above and dropped ("... supplement m)
    (n = 7) ..."). And a body line in the next column, in larger type, beside a legend's first line
    is not the legend's (PNAS's legend had stopped at the body's "... known as syn-")."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    legend = ["Figure 7. The total quality factor of a comprehensive nutritional supplement",
              "from germinated wheat with a different ratio of incoming components (M ±",
              "m) (n = 7) (intra-group differences are indicated by letters, multiple",
              "comparisons, LSD test, p <0.05)"]
    for k, text in enumerate(legend):
        page.insert_text((136, 460 + 12.6 * k), text, fontsize=11)
    assert find_captions(read_text(doc))[0][0].text == " ".join(legend)
    doc2 = pymupdf.open()
    page = doc2.new_page(width=595, height=842)
    page.insert_text((36, 220), "Fig. 7. Working model of PARP1 UFMylation during the repl-", fontsize=7)
    page.insert_text((250, 221), "death in BRCA1/2-deficient cells, known as syn-", fontsize=10)
    page.insert_text((36, 228.6), "ication stress response. PARP1 (yellow) and UFL1 (red) meet.", fontsize=7)
    page.insert_text((250, 233), "thetic lethality due to the decreased restart of forks.", fontsize=10)
    assert find_captions(read_text(doc2))[0][0].text == ("Fig. 7. Working model of PARP1 UFMylation during the "
                                                         "replication stress response. PARP1 (yellow) and UFL1 (red) meet.")


def test_a_long_legend_is_read_to_its_end():
    """PNAS's legends run to 2,750 characters; a cap of 2,500 had cut two of them."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    lines = [f"(Panel {k}) Cells were treated, harvested and blotted for the stalled fork marker." for k in range(38)]
    lines[0] = "Fig. 4. Defective marking impairs activation at the stalled replication forks, panel by panel."
    lines[-1] = "Two-way ANOVA: ns = nonsignificant; *P < 0.05, N = 3."
    for k, text in enumerate(lines):
        page.insert_text((40, 60 + 9.5 * k), text, fontsize=7)
    caption = find_captions(read_text(doc))[0][0].text
    assert len(caption) > 2700 and caption.endswith("*P < 0.05, N = 3.")


def test_a_legend_in_the_texts_type_under_a_smaller_title_is_read():
    """Science's author manuscripts set a legend's title in 9 pt bold and its text, right below,
    in the 10 pt body type: the caption had stopped at the title. Body text a gap below a caption
    in larger type is not the caption's."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_text((150, 580), "Fig. 1. Synthetic circuits drive local T cell proliferation.", fontsize=9, fontname="tibo")
    page.insert_text((150, 592), "(A) The tumor microenvironment acts to suppress T cell activation.", fontsize=10, fontname="tiro")
    page.insert_text((150, 606), "(B) Synthetic circuits were created in human primary T cells.", fontsize=10, fontname="tiro")
    page.insert_text((150, 700), "Fig. 2. Another figure of the same paper, its legend alone.", fontsize=9, fontname="tibo")
    page.insert_text((150, 730), "The body text resumes here, a gap below the second legend.", fontsize=10, fontname="tiro")
    captions = {c.label: c.text for c in find_captions(read_text(doc))[0]}
    assert captions["Figure 1"].endswith("(B) Synthetic circuits were created in human primary T cells.")
    assert captions["Figure 2"] == "Fig. 2. Another figure of the same paper, its legend alone."


@pytest.mark.parametrize("lines, tail", [
    (["实验环境中不同网络实体之间的往返时延经过了多", "次测试，各实体之间的往返时延都在一毫秒以内，远低", "于切换时延，测试结果见表1和图8的说明，时延"], "组成见图8。"),
    (["The round-trip times between the entities of the", "test network were measured many times with a packet", "capture on the access point; they are listed in Table 1"], "and Figure 8."),
])
def test_a_paragraphs_short_last_line_above_a_figure_stays_body_text(tmp_path, lines, tail):
    """A paragraph's short last line set right above a figure read as one of the figure's labels
    (a short line at its edge): the region grew over it and the body lost it ("……往返时延RTT 多" /
    "次测试结果见表1。", a Chinese journal's page). A prose line in its type right above, starting
    where it starts, makes it the paragraph's."""
    from ingest.parse import parse_pdf

    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    font = "china-s" if tail.endswith("。") else "helv"
    y = 200.0
    for text in lines + [tail]:
        page.insert_text((72, y), text, fontsize=10.5, fontname=font)
        y += 15.5
    _chart(page, 100, y + 1)  # its strokes start 3-4 pt under the short line's box
    page.insert_text((100, y + 178), "图8 网络层切换时延组成" if font == "china-s" else "Figure 8. The delay's parts.",
                     fontsize=9, fontname=font)
    figures = extract_figures(doc, [])
    assert len(figures) == 1 and figures[0].bbox[1] > y - 15.5  # the crop starts under the paragraph
    path = tmp_path / "paper.pdf"
    doc.save(path)
    body = " ".join(b.text for b in parse_pdf(path).blocks if b.kind == "body")
    assert tail in body


@pytest.mark.corpus
def test_corpus_paragraphs_keep_their_last_line_above_a_figure(shared_corpus):
    from ingest.parse import parse_pdf

    folder, _ = shared_corpus
    paper = parse_pdf(folder / "paper-01.pdf")  # four paragraphs end right above a figure
    body = "".join(b.text for b in paper.blocks if b.kind == "body")
    for ending in ("往返时延RTT 多次测试结果见表1。", "控制平面系统包括四个模块，负责不同的功能。",
                   "三角路由处理流程结束。", "接入ASR2。有线终端CN 与ASR3 相连。"):
        assert ending in body
    fig8 = next(f for f in paper.figures if f.label == "图8")
    assert fig8.bbox[1] > 266  # the crop starts under "次测试结果见表1。" (its line ends at 266 pt)
