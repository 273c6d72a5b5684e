"""Layout: reading order, page furniture, hyphenation, ligatures, headings, captions, references, CJK."""
from __future__ import annotations

import re
from pathlib import Path

import pymupdf
import pytest

from ingest.layout import extract_blocks, normalise
from ingest.textfix import join_lines

LEFT = [f"left column sentence number {i} continues the argument" for i in range(1, 16)]
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
RIGHT = [f"right column sentence number {i} follows on from it" for i in range(1, 16)]


def blocks_of(path):
    with pymupdf.open(path) as doc:
        return extract_blocks(doc)


def run_in(pdf, y: float, bold: str, rest: str) -> None:
    """A line that opens with bold words and runs on in the text's face (a run-in head)."""
    pdf.line(60, y, bold, 10, "hebo")
    pdf.line(60 + pymupdf.get_text_length(bold, fontname="hebo", fontsize=10), y, rest, 10)


def test_two_columns_read_left_then_right_with_title_first(pdf):
    pdf.new_page()
    pdf.line(150, 80, "A Study of Column Detection in Scholarly Documents", 16, "hebo")
    pdf.column(60, 140, LEFT)
    pdf.column(320, 140, RIGHT)
    blocks, refs, empty = blocks_of(pdf.save())
    text = " ".join(b.text for b in blocks)
    assert blocks[0].text.startswith("A Study of Column Detection")
    assert text.index("left column sentence number 15") < text.index("right column sentence number 1 ")
    assert text.index("left column sentence number 2 ") < text.index("left column sentence number 3 ")
    assert empty == [] and refs == []


def test_two_columns_under_a_long_full_width_abstract(pdf):
    """A first page whose full-width title and abstract are a third of its lines (NAR's layout): its
    columns used to be read row by row across the gutter ("exhibit conserva- predominantly of RNA")."""
    pdf.new_page()
    pdf.line(60, 60, "A Study of Column Detection in Scholarly Documents", 16, "hebo")
    abstract = [f"abstract line {i} runs across the whole width of the page from margin to margin" for i in range(1, 13)]
    y = pdf.column(60, 90, abstract)
    pdf.column(60, y + 20, LEFT[:12])
    pdf.column(320, y + 20, RIGHT[:12])
    blocks, _, _ = blocks_of(pdf.save())
    text = " ".join(b.text for b in blocks)
    assert text.index("abstract line 12") < text.index("left column sentence number 1 ")
    assert text.index("left column sentence number 12") < text.index("right column sentence number 1 ")
    assert "sentence number 1 continues the argument" in text  # no right-column line wedged inside


def test_two_columns_under_a_wide_table(pdf):
    """A questionnaire table above the text: its narrow first column beside its wide second one
    was taken for the gutter, and the text columns under it were read row by row (EACL paper,
    page 8 of the corpus)."""
    pdf.new_page()
    for r in range(14):
        pdf.line(60, 60 + 12 * r, f"Q{r}: did it help", 8)
        pdf.line(160, 60 + 12 * r, f"response snippet {r} quoting an annotator across the whole table width", 8)
    pdf.column(60, 260, LEFT[:13])
    pdf.column(320, 260, RIGHT[:13])
    blocks, _, _ = blocks_of(pdf.save())
    text = " ".join(b.text for b in blocks)
    assert text.index("left column sentence number 13") < text.index("right column sentence number 1 ")
    assert "sentence number 1 continues the argument left column sentence number 2" in text


def test_a_sidebar_beside_the_abstract_stays_out_of_it(pdf):
    """Nature Communications' first page: "Received ...", "Check for updates" left of an abstract
    that crosses the gutter were read between two of the abstract's lines."""
    pdf.new_page()
    abstract = [f"abstract sentence part {i} set in the wide right block of the first page" for i in range(1, 9)]
    pdf.column(200, 100, abstract)
    pdf.column(40, 110, ["Received: 1 April", "Accepted: 3 May", "Check for updates"], 8, leading=26)
    pdf.column(60, 230, LEFT[:13])
    pdf.column(320, 230, RIGHT[:13])
    blocks, _, _ = blocks_of(pdf.save())
    text = " ".join(b.text for b in blocks)
    start, end = text.index("abstract sentence part 1 "), text.index("abstract sentence part 8 ")
    assert "Check for updates" not in text[start:end] and "Received" not in text[start:end]
    assert text.index("left column sentence number 13") < text.index("right column sentence number 1 ")


def test_a_narrow_small_type_sidebar_is_read_whole_where_it_starts(pdf):
    """MDPI's (and eLife's, PeerJ's) first page: a 7 pt sidebar left of the introduction. Too narrow
    for a column, its rows were read between the introduction's lines ("... bacteriophages and" |
    "Academic Editor: Sathiyaraj" | "bacteria, bacteria have ..."), and its bold labels became
    section headings."""
    pdf.new_page()
    pdf.line(40, 80, "A Study of Sidebars in Scholarly Documents", 16, "hebo")
    intro = [f"introduction sentence part {i} runs across the wide main column here" for i in range(1, 19)]
    pdf.line(170, 200, "1. Introduction", 11, "hebo")
    pdf.column(170, 216, intro)
    pdf.line(40, 220, "Version of Record", 7, "hebo")
    pdf.column(40, 232, ["Citation: Shi, C.; Wang, L.", "Academic Editor: A. Editor", "Received: 21 December 2023",
                         "Accepted: 25 January 2024", "Copyright: 2024 by the authors."], 7, leading=24)
    blocks, _, _ = blocks_of(pdf.save())
    text = " ".join(b.text for b in blocks)
    start, end = text.index("introduction sentence part 1 "), text.index("introduction sentence part 18 ")
    assert not any(word in text[start:end] for word in ("Citation", "Editor", "Received", "Copyright"))
    assert text.index("Copyright") < start  # read where the sidebar starts, before the text beside it
    assert [b.text for b in blocks if b.kind == "heading"][-1] == "1. Introduction"
    assert {b.section for b in blocks if "introduction sentence" in b.text} == {"1. Introduction"}


def test_the_paragraph_a_sidebar_starts_beside_ends_before_it(pdf):
    """MDPI's sidebar starts beside the abstract's last line: read where it starts, it cut the
    abstract's last sentence in two ("... plays key roles in" | "Citation: ..." | "defending foreign
    DNA ..."), and the chunker made the tail a passage of its own."""
    pdf.new_page()
    pdf.line(40, 80, "A Study of Sidebars in Scholarly Documents", 16, "hebo")
    abstract = [f"Abstract sentence part {i} runs across the main column" for i in range(1, 8)]
    y = pdf.column(170, 140, abstract + ["and its last line ends here with the final words."])
    pdf.column(40, y - 13, ["Citation: Shi, C.; Wang, L.", "Academic Editor: A. Editor", "Received: 21 December 2023",
                            "Accepted: 25 January 2024", "Copyright: 2024 by the authors."], 7, leading=24)
    pdf.line(170, y + 20, "1. Introduction", 11, "hebo")
    pdf.column(170, y + 36, [f"introduction sentence part {i} runs across the wide main column here" for i in range(1, 12)])
    blocks, _, _ = blocks_of(pdf.save())
    text = " ".join(b.text for b in blocks)
    assert "part 7 runs across the main column and its last line ends here with the final words." in text
    assert text.index("final words") < text.index("Citation") < text.index("introduction sentence part 1 ")


def test_a_first_pages_few_column_rows_under_the_abstract_are_read_column_by_column(pdf):
    """A Chinese journal's first page: title and abstracts across the page, then the introduction
    starts in two columns for three rows above the footnotes (one of which runs across). Too few
    column lines for the gutter search, the rows were read across both columns ("结构固定，使得IP
    具有……[1]，这种在传统互联网……"): each column's sentence was cut into the other's."""
    pdf.new_page()
    pdf.line(60, 70, "基于可编程平台的标识网络移动性管理机制", 18, "china-s")
    y = pdf.column(60, 110, ["摘要: 标识网络的提出解决了传统网络中地址二义性带来的移动性问题，然而在现网中部署存在困难。"] * 8,
                   size=9, leading=13, font="china-s")
    y = pdf.column(60, y + 10, ["Abstract: The proposal of the identifier network solves the mobility problem of IP."] * 6,
                   size=9, leading=13)
    pdf.line(60, y + 20, "0 引言", 12, "china-s")
    pdf.column(60, y + 40, ["左栏第一句说明了研究的背景，它一直写到", "左栏的第二行，并且在这里结束了这句话。",
                            "左栏第三行开始另一句话，写到右栏的顶上"], size=10.5, leading=15, font="china-s")
    pdf.column(310, y + 20, ["右栏的第一行接着左栏的最后一句话写完。", "右栏的第二行开始新的一句，写完了它。",
                             "右栏第三行是新的一段内容，也写完了。"], size=10.5, leading=15, font="china-s")
    pdf.line(60, y + 100, "作者简介: 柳依岸，男，硕士，研究方向为新型网络; 郜帅，博士，教授，研究方向为未来网络架构。", 8, "china-s")
    pdf.new_page()  # the paper's text, in the columns' type
    pdf.column(60, 70, [f"第二页的正文第{i}行在这里继续写下去，写满一行。" for i in range(1, 40)], size=10.5, leading=15,
               font="china-s")
    blocks, _, _ = blocks_of(pdf.save())
    text = "".join(b.text for b in blocks if b.kind == "body").replace(" ", "")
    assert "左栏第一句说明了研究的背景，它一直写到左栏的第二行，并且在这里结束了这句话。" in text
    assert "写到右栏的顶上右栏的第一行接着左栏的最后一句话写完。" in text
    assert text.index("右栏第三行") < text.index("作者简介")


def test_corpus_first_page_columns_under_the_abstract(shared_corpus):
    from ingest.parse import parse_pdf

    folder, _ = shared_corpus
    for name, sentence in (("paper-01.pdf", "网络结构固定，使得IP具有身份和位置双重属性[1]，这种在当时简单有效的设计"),
                           ("paper-26.pdf", "诸多新生业务对网络的服务能力提出了更高要求")):
        text = "".join(b.text for b in parse_pdf(folder / name).blocks if b.page == 1).replace(" ", "")
        assert sentence in text, name
    springer = [b.text for b in parse_pdf(folder / "paper-27.pdf").blocks if b.section == "Introduction" and b.page == 1]
    assert any(t.startswith("The central role of the ATP-sensitive potassium (KATP) channel in glucose-stimulated "
                            "insulin secretion from pancreatic beta cells is well understood [1]. Glucose uptake") for t in springer)


def test_a_single_column_page_with_a_table_keeps_its_rows(pdf):
    """Table cells side by side are not two columns: the rows stay whole."""
    pdf.new_page()
    prose = [f"prose line {i} of a single column page runs across the middle of the page" for i in range(1, 21)]
    y = pdf.column(60, 60, prose)
    for r in range(12):
        pdf.line(60, y + 20 + 13 * r, f"GFP{r}", 9)
        pdf.line(360, y + 20 + 13 * r, f"{r}.5", 9)
    blocks, _, _ = blocks_of(pdf.save())
    text = " ".join(b.text for b in blocks)
    assert text.index("GFP1") < text.index("1.5") < text.index("GFP2")  # row by row


def test_running_header_footer_and_page_numbers_removed(pdf):
    for n in range(1, 4):
        pdf.new_page()
        pdf.line(60, 40, "Journal of Repeated Headers 2024; 12: 100-120", 8)
        pdf.column(60, 120, [f"Body text on page {n} says something unique about topic {n}."] * 3)
        pdf.line(290, 810, str(n), 9)
    blocks, _, _ = blocks_of(pdf.save())
    text = " ".join(b.text for b in blocks)
    assert "Journal of Repeated Headers" not in text
    assert all(not b.text.strip().isdigit() for b in blocks)
    assert "page 2 says something unique" in text and {b.page for b in blocks} == {1, 2, 3}


def test_running_header_a_little_below_the_margin_removed_body_pieces_kept(pdf):
    """Some journals print the running header at ~9.5% of the page (计算机研究与发展's "柴若楠等：算力
    网络中…" at y = 71-80 of 842), below the 9% margin zone: it was read into the body mid-sentence.
    It is dropped now because its whole row repeats page after page, while a body row that MuPDF
    splits into pieces ("The" apart from the rest) and a figure label at the top of each page stay."""
    topics = ["ribosome assembly", "yeast brewing", "wheat sprouts", "network routing"]
    for n, topic in enumerate(topics, 1):
        pdf.new_page()
        pdf.line(60, 80, "作者等：算力网络中高效算力资源度量方法", 8, font="china-s")  # bottom at ~9.5%
        pdf.line(520, 80, str(760 + n), 8)
        pdf.line(60, 96, "The", 10)  # one row of body text, split: ~11% of the page
        pdf.line(100, 96, f"experiment measured something unique about {topic}.", 10)
        pdf.line(60, 112, f"Figure {n}. A figure legend set at the top of page {n}.", 9)
        pdf.column(60, 140, [f"More body text on page {n} follows the first row of the page."] * 3)
    blocks, _, _ = blocks_of(pdf.save())
    text = " ".join(b.text for b in blocks)
    assert "算力网络中高效算力资源度量方法" not in text and "762" not in text
    assert text.count("The experiment measured") == 4  # the repeated piece of a body row stays
    assert all(f"Figure {n}. A figure legend" in text for n in range(1, 5))


def test_hyphenation_repaired_but_real_hyphens_kept(pdf):
    pdf.new_page()
    pdf.column(60, 100, [
        "The rate of transcrip-",
        "tion was measured in a long-term study of",
        "cells, and the long-",
        "term effect of treatment was clear.",
    ])
    blocks, _, _ = blocks_of(pdf.save())
    text = blocks[0].text
    assert "transcription was measured" in text
    assert "long-term study" in text and "the long-term effect" in text


def test_soft_hyphen_and_ligatures_normalised(pdf):
    if not DEJAVU.exists():
        pytest.skip(f"no font with ﬁ/ﬂ glyphs at {DEJAVU} (base-14 fonts cannot encode them)")
    page = pdf.new_page()
    page.insert_text((60, 100), "An efﬁcient ﬂow of data", fontsize=11, fontname="dejavu", fontfile=str(DEJAVU))
    blocks, _, _ = blocks_of(pdf.save())
    assert "efficient flow" in blocks[0].text


def test_normalise_glyphs():
    assert normalise("co\u00adoperate") == "cooperate"
    assert normalise("１０．１２３４／ＡＢＣ") == "10.1234/ABC"
    assert normalise("标识，网络：") == "标识，网络："  # Chinese punctuation stays full-width


def test_headings_sections_captions_and_references(pdf):
    pdf.new_page()
    pdf.line(60, 60, "Abstract", 12, "hebo")
    pdf.column(60, 80, ["We describe a method for finding sections in papers."])
    pdf.line(60, 120, "1 Introduction", 12, "hebo")
    pdf.column(60, 140, ["Papers have sections. This one has an introduction.", "It goes on for a while."])
    pdf.line(60, 190, "2.1 Related work", 12, "hebo")
    pdf.column(60, 210, ["Others have tried before us with mixed results."])
    pdf.line(60, 240, "Figure 3. Accuracy of the heading detector on ten papers.", 9)
    pdf.line(60, 280, "Results", 10)
    pdf.column(60, 300, ["The detector works on this page."])
    pdf.line(60, 340, "References", 12, "hebo")
    pdf.column(60, 360, [
        "[1] A. Author. A paper about headings. J. Tests, 2020.",
        "[2] B. Author. Another paper that wraps over",
        "two lines. Proc. Tests, 2021.",
    ])
    blocks, refs, _ = blocks_of(pdf.save())
    by_text = {b.text: b for b in blocks}
    assert by_text["1 Introduction"].kind == "heading"
    intro = next(b for b in blocks if b.text.startswith("Papers have sections"))
    assert intro.section == "1 Introduction"
    assert next(b for b in blocks if b.text.startswith("Others")).section == "2.1 Related work"
    caption = next(b for b in blocks if b.text.startswith("Figure 3."))
    assert caption.kind == "caption"
    assert next(b for b in blocks if b.text.startswith("The detector")).section == "Results"
    assert refs == [
        "[1] A. Author. A paper about headings. J. Tests, 2020.",
        "[2] B. Author. Another paper that wraps over two lines. Proc. Tests, 2021.",
    ]
    assert not any("Another paper" in b.text for b in blocks)


def test_chinese_lines_joined_without_spaces_and_cjk_headings(pdf):
    pdf.new_page()
    pdf.line(60, 80, "1 引 言", 12, "china-s")
    pdf.column(60, 100, ["标识网络的提出解决了传统网络中地址", "二义性带来的移动性问题。"], 10, font="china-s")
    pdf.column(60, 130, ["随着协议无关的可编程平台技术不断发展，为解决标识网络部署困难带来可能。"], 10, font="china-s")
    pdf.line(60, 150, "参考文献", 12, "china-s")
    pdf.column(60, 170, ["[1] 张三. 标识网络研究[J]. 通信学报, 2020."], 9, font="china-s")
    blocks, refs, _ = blocks_of(pdf.save())
    body = next(b for b in blocks if b.kind == "body")
    assert body.text.startswith("标识网络的提出解决了传统网络中地址二义性带来的移动性问题。")
    assert body.section == "1 引言"
    assert refs and refs[0].startswith("[1] 张三")


def test_page_without_text_is_reported_empty(pdf):
    pdf.new_page()
    pdf.column(60, 100, ["Some text on the first page."])
    pdf.new_page().draw_rect(pymupdf.Rect(100, 100, 300, 300), color=(0, 0, 0), fill=(0.5, 0.5, 0.5))
    _, _, empty = blocks_of(pdf.save())
    assert empty == [2]


def test_join_lines_rules():
    vocab = {"long", "term", "long-term"}
    assert join_lines(["a long-", "term plan"], vocab) == "a long-term plan"
    assert join_lines(["the experi-", "ment ran"], vocab) == "the experiment ran"
    assert join_lines(["中文", "句子"], vocab) == "中文句子"
    assert join_lines(["see http://x.org/", "path"], vocab) == "see http://x.org/path"


def test_numbered_chinese_lines_that_are_not_titles_are_body():
    """A Chinese line after a number is a heading at the body's size, unless it is an item with a
    sentence in it, a wrapped line with a bracket left open, or a quantity."""
    from ingest.layout import _Line
    from ingest.headings import is_heading

    def line(text):
        return _Line(1, 77, 190, 287, 201, text, 9.7, False)

    assert is_heading(line("3 当前技术途径"), 9.7) and is_heading(line("3.1.3 集合通信库——解决异构算力间的互通性"), 9.7)
    assert is_heading(line("1.2 挑战2：提高智算集群网络传输效率"), 9.7)
    assert not is_heading(line("2 智能算力.当用于深度学习应用程序、大规模"), 9.7)  # "②" after NFKC
    assert not is_heading(line("3 万个Trainium芯片（Amazon专为训练AI模型而"), 9.7)
    assert not is_heading(line("3 万个国产加速卡组成的集群"), 9.7)


def test_corpus_numbered_items_and_wrapped_lines_are_not_headings(shared_corpus):
    from ingest.parse import parse_pdf

    folder, _ = shared_corpus
    sections = {b.section for b in parse_pdf(folder / "paper-07.pdf").blocks}
    assert "2.1 设计原则" in sections and not any(s.startswith(("2 智能算力", "4 网络能力")) for s in sections)
    blocks = parse_pdf(folder / "paper-30.pdf").blocks
    assert not any(b.section.startswith("3 万个") for b in blocks)
    assert any("3 万个Trainium芯片（Amazon专为训练AI模型而设计的芯片）" in b.text for b in blocks)


def test_bold_line_running_into_a_sentence_is_body_not_heading():
    from ingest.layout import _Line
    from ingest.headings import is_heading, wraps_into_sentence

    first = _Line(1, 36, 200, 376, 212, "UFMylation is required for the efficient activation of CHK1", 10.0, True)
    second = _Line(1, 36, 213, 376, 225, "at K548 during replication stress.", 10.0, True)
    heading = _Line(1, 36, 180, 200, 192, "Results", 10.0, True)
    body = _Line(1, 36, 194, 376, 206, "we found that the strain grew slowly", 9.0, False)
    assert is_heading(first, 9.0) and wraps_into_sentence(first, second, 9.0)
    assert not wraps_into_sentence(heading, body, 9.0)  # a real heading followed by a body line
    title = _Line(1, 36, 60, 500, 80, "Complications related to deep venous thrombosis", 18.0, True)
    title2 = _Line(1, 36, 81, 500, 101, "prophylaxis in trauma", 18.0, True)
    assert not wraps_into_sentence(title, title2, 9.0)  # titles keep their wrapped second line
    wrapped = _Line(1, 71, 500, 283, 511, "RQ3: Is it useful to align summary units", 10.9, True)
    tail = _Line(1, 71, 512, 170, 523, "to source sentences?", 10.9, True)
    assert not wraps_into_sentence(wrapped, tail, 10.9)  # a short second line: a wrapped heading


def test_a_table_references_column_and_formula_lines_do_not_end_the_body(pdf):
    """A table whose header row has a "参考文献" (references) column used to start the reference list:
    two pages of a Chinese paper's body were stored as references (paper-26 of the shared corpus)."""
    pdf.new_page()
    pdf.line(60, 80, "1 相关工作", 12, "china-s")
    pdf.column(60, 100, ["已有研究主要通过协议转换实现标识空间互通。"], 10, font="china-s")
    pdf.line(60, 140, "表1 关键技术", 9, "china-s")
    for x, cell in ((60, "类型"), (160, "名称"), (260, "互通方式"), (400, "参考文献")):
        pdf.line(x, 160, cell, 8, "china-s")
    for x, cell in ((60, "协议转换"), (160, "NDN-IP"), (260, "网关转换"), (400, "[8-11]")):
        pdf.line(x, 175, cell, 8, "china-s")
    pdf.line(60, 210, "2 架构方案设计", 12, "china-s")
    pdf.column(60, 230, ["控制平面由上到下可分为五个部分。"], 10, font="china-s")
    pdf.line(60, 260, "( ID source, ID destination ) = Tab [ T ]", 12)  # a formula in a larger math font
    pdf.column(60, 280, ["该二元组决定数据分组的模态类型。"], 10, font="china-s")
    pdf.line(60, 320, "参考文献", 12, "china-s")
    pdf.column(60, 340, ["[1] 张三. 标识网络研究[J]. 通信学报, 2020."], 9, font="china-s")
    blocks, refs, _ = blocks_of(pdf.save())
    body = next(b for b in blocks if b.text.startswith("控制平面由上到下"))
    assert body.section == "2 架构方案设计"
    assert next(b for b in blocks if b.text.startswith("该二元组")).section == "2 架构方案设计"
    assert not any("控制平面" in r for r in refs)
    assert len(refs) == 1 and refs[0].startswith("[1] 张三")


def test_corpus_chinese_paper_keeps_its_body_out_of_the_references(shared_corpus):
    folder, _ = shared_corpus
    with pymupdf.open(folder / "paper-26.pdf") as doc:
        blocks, refs, _ = extract_blocks(doc)
    sections = {b.section for b in blocks}
    assert {"2 异构标识空间管控架构方案设计", "2.3 异构标识空间管控功能框架"} <= sections
    assert "参考文献" not in sections  # no body block labelled as the reference list
    assert any("南向适配接口" in b.text for b in blocks) and not any("南向适配接口" in r for r in refs)


def test_methods_printed_after_the_references_are_body_text(pdf):
    """Cell's STAR Methods and Nature's Methods follow the reference list: five pages of a corpus
    paper's methods were stored as references. A reference line that starts "Methods" stays one."""
    pdf.new_page()
    pdf.line(60, 60, "Discussion", 12, "hebo")
    pdf.column(60, 80, ["The virus was found in most isolates."])
    pdf.line(60, 120, "REFERENCES", 12, "hebo")
    pdf.column(60, 140, ["1. Smith, J. (2015). Counting reads. Nat.", "Methods 12, 115-117.",
                         "2. Jones, K. (2020). Frogs and fungi. Science 1, 2-3."], 9)
    pdf.line(60, 200, "STAR+METHODS", 12, "hebo")
    pdf.line(60, 220, "Amphibian infection model", 10, "hebo")
    pdf.column(60, 240, ["Frogs were exposed to zoospores for two hours in a water bath."])
    blocks, refs, _ = blocks_of(pdf.save())
    frogs = next(b for b in blocks if b.text.startswith("Frogs were exposed"))
    assert frogs.section == "Amphibian infection model"
    assert len(refs) == 2 and refs[0].endswith("Nat. Methods 12, 115-117.")
    assert not any("zoospores" in r for r in refs)


def test_corpus_star_methods_are_body_text(shared_corpus):
    folder, _ = shared_corpus
    with pymupdf.open(folder / "paper-23.pdf") as doc:
        blocks, refs, _ = extract_blocks(doc)
    assert any("We performed all investigations involving live vertebrate animals" in b.text for b in blocks)
    assert not any("live vertebrate animals" in r for r in refs)
    assert 50 <= len(refs) <= 90  # the article's own list, not its methods


def test_a_landscape_table_page_is_read_as_displayed(pdf):
    """A page set /Rotate 90 whose text is drawn turned (a landscape table in a portrait journal):
    MuPDF reports its lines running up the page, and they were all dropped as rotated stamps."""
    page = pdf.new_page()
    for i in range(8):
        page.insert_text((80 + 14 * i, 760), f"landscape table row {i} with several cells of text", fontsize=10, rotate=90)
    page.set_rotation(90)
    blocks, _, empty = blocks_of(pdf.save())
    text = " ".join(b.text for b in blocks)
    assert empty == []
    assert text.index("row 0 with") < text.index("row 1 with") < text.index("row 7 with")


def test_corpus_landscape_table_pages_have_text(shared_corpus):
    folder, _ = shared_corpus
    with pymupdf.open(folder / "paper-09.pdf") as doc:
        blocks, _, _ = extract_blocks(doc)
    page5 = " ".join(b.text for b in blocks if b.page == 5)
    assert "Encourage patient-centred care" in page5


def test_corpus_running_headers_below_the_margin_are_not_body_text(shared_corpus):
    """计算机研究与发展 and 电信科学 print their running headers at ~9.5% of the page: they were read
    into sentences ("文献[10] 基柴若楠等：算力网络中高效算力资源度量方法于泊松假设…") and into the
    English abstract ("·2 · ultra-large-scale intelligent computing clusters …")."""
    folder, _ = shared_corpus
    with pymupdf.open(folder / "paper-07.pdf") as doc:
        blocks, _, _ = extract_blocks(doc)
    text = " ".join(b.text for b in blocks if b.page > 1)
    assert "柴若楠等：算力网络中高效算力资源度量方法" not in text and "计算机研究与发展 2023" not in text
    assert "选择合适用户任务的算力节点" in text  # the sentence the header used to split runs on
    with pymupdf.open(folder / "paper-30.pdf") as doc:
        blocks, _, _ = extract_blocks(doc)
    assert not any(b.text.startswith(("·", "综述")) for b in blocks if b.page > 1)
    assert any(b.text.startswith("ultra-large-scale intelligent computing clusters") for b in blocks)


def test_footnotes_are_blocks_of_their_own_that_sentences_run_on_across(pdf):
    """An ACL page: the left column ends mid-sentence, its footnotes (smaller type, raised marks)
    sit below it, the right column goes on. The sentence used to be read through the footnotes
    ("inline (He 15https://github.com/... et al., 2010)") and two footnotes ran together."""
    pdf.new_page()
    left = [f"Left line {i} of the body text says so." for i in range(1, 30)]
    y = pdf.column(60, 80, left[:-1] + ["It serves inline citation work (He"], size=11, leading=14)
    for mark, text in (("7", "pronounced like a bird"), ("8", "The papers included are a curated subset.")):
        pdf.line(60, y + 12, mark, 6)
        pdf.line(64, y + 15, text, 9)
        y += 13
    pdf.column(320, 80, ["et al., 2010) and document-level work."]
               + [f"Right line {i} carries on with the text." for i in range(1, 29)], size=11, leading=14)
    blocks, _, _ = blocks_of(pdf.save())
    notes = [b.text for b in blocks if b.kind == "footnote"]
    assert notes == ["7 pronounced like a bird", "8 The papers included are a curated subset."]
    body = [b for b in blocks if b.kind == "body"]
    assert not any("pronounced" in b.text for b in body)
    assert body[-2].text.endswith("(He") and body[-1].text.startswith("et al., 2010)")  # the chunker joins them


def test_corpus_acl_footnotes_leave_the_sentences_whole(shared_corpus):
    folder, _ = shared_corpus
    with pymupdf.open(folder / "paper-16.pdf") as doc:  # S2ORC (ACL 2020)
        blocks, _, _ = extract_blocks(doc)
    notes = [b.text for b in blocks if b.kind == "footnote"]
    assert "7 pronounced “stork”" in notes and any(n.startswith("15 https://github.com/google-research/") for n in notes)
    assert not any("github.com/google-research" in b.text for b in blocks if b.kind == "body")
    # BMC's licence box at the foot of the first page is a footnote, not the end of the page's last sentence
    with pymupdf.open(folder / "paper-24.pdf") as doc:
        blocks, _, _ = extract_blocks(doc)
    assert any(b.kind == "footnote" and b.text.startswith("© The Author(s) 2024. Open Access") for b in blocks)
    assert not any(b.kind == "body" and "Creative Commons" in b.text for b in blocks if b.page == 1)
    # NAR's first page sets its abstract in small type under a "* To whom correspondence" line: not footnotes
    with pymupdf.open(folder / "paper-10.pdf") as doc:
        blocks, _, _ = extract_blocks(doc)
    assert any(b.kind == "body" and b.text.startswith("Local mutation rates in human") for b in blocks)


def test_wrapped_titles_comma_headings_and_figure_legends_stay_whole(pdf):
    """A title over two lines (its second line starts lower-case), a heading a size up that wraps
    at a comma, and a figure legend whose second paragraph is in the caption's small type: each
    used to leave a piece in the body text ("histone deacetylation of ..." as a paragraph, the
    heading glued to the paragraph below, the legend between two pages of the Discussion)."""
    pdf.new_page()
    pdf.line(60, 70, "Noncoding RNA promotes drought tolerance and", 18, "hebo")
    pdf.line(60, 93, "histone deacetylation of responsive genes", 18, "hebo")
    y = pdf.column(60, 150, [f"Body line {i} of the first section goes on." for i in range(1, 6)], size=9, leading=12)
    pdf.line(60, y + 14, "Knockout of PWWP3, a protein interacting with DIP1,", 10.5, "hebo")
    pdf.line(60, y + 27, "attenuates drought tolerance in plants", 10.5, "hebo")
    y = pdf.column(60, y + 44, [f"Middle line {i} of the second section goes on." for i in range(1, 4)], size=9, leading=12)
    # ASM: a bold heading a size up that is a sentence of its own, 13 words on its first line
    pdf.line(60, y + 14, "Wild strains form less biofilm, and the biofilm is more susceptible to antibiotics", 10, "hebo")
    pdf.line(60, y + 26, "and biocides than those of the lab strain", 10, "hebo")
    y = pdf.column(60, y + 44, ["To further characterize the complex we performed a yeast assay."]
                   + [f"Result line {i} of this section is reported." for i in range(1, 5)], size=9, leading=12)
    pdf.line(60, y + 20, "Figure 6. A proposed working model of the lncRNA function.", 7)
    pdf.line(60, y + 31, "Under normal conditions, the target genes are highly expressed.", 7)
    pdf.line(60, y + 40, "Under drought, their expression is repressed.", 7)
    pdf.column(60, y + 64, [f"Closing line {i} of the discussion is here." for i in range(1, 5)], size=9, leading=12)
    blocks, _, _ = blocks_of(pdf.save())
    headings = [b.text for b in blocks if b.kind == "heading"]
    assert "Noncoding RNA promotes drought tolerance and histone deacetylation of responsive genes" in headings
    assert "Knockout of PWWP3, a protein interacting with DIP1, attenuates drought tolerance in plants" in headings
    assert ("Wild strains form less biofilm, and the biofilm is more susceptible to antibiotics and biocides than those "
            "of the lab strain") in headings
    body = [b.text for b in blocks if b.kind == "body"]
    assert body[0].startswith("Body line 1") and not any("histone" in t or "Knockout" in t for t in body)
    assert any(t.startswith("To further characterize") for t in body)
    captions = [b.text for b in blocks if b.kind == "caption"]
    assert captions == ["Figure 6. A proposed working model of the lncRNA function. Under normal conditions, the target "
                        "genes are highly expressed. Under drought, their expression is repressed."]


def test_corpus_titles_headings_and_legends_stay_whole(shared_corpus):
    from ingest.parse import parse_pdf

    folder, _ = shared_corpus
    blocks = parse_pdf(folder / "paper-03.pdf").blocks  # EMBO Reports; figure regions known, so their labels are out
    assert any(b.kind == "heading" and b.text.endswith("histone deacetylation of drought responsive genes in Arabidopsis")
               for b in blocks)
    assert any(b.kind == "heading" and b.text.startswith("Knockout of PWWP3") for b in blocks)
    asm = parse_pdf(folder / "paper-15.pdf").blocks  # mSphere's sentence-like headings
    assert any(b.kind == "heading" and b.text.startswith("A. lwoffii forms less biofilm, and the biofilm") for b in asm)
    assert not any(b.kind == "body" and (b.text.startswith(("Knockout of PWWP3", "histone deacetylation of drought",
                                                            "Under normal conditions, CYP707A1"))) for b in blocks)
    assert any(b.kind == "caption" and b.text.startswith("Figure 6.") and "Under normal conditions, CYP707A1" in b.text
               for b in blocks)


def test_three_line_headings_stay_whole(pdf):
    """eLife sets section headings a size up in bold over three lines; the middle line of such a
    heading (lower-case start, full width) was body text that ran on into the section's first
    sentence ("... where splicing occurs after transcription is completed While conventional ...").
    A three-line title that wraps at a comma too (a Chinese paper's English title)."""
    pdf.new_page()
    y = pdf.column(60, 70, [f"Body line {i} of the first section goes on." for i in range(1, 6)], size=9, leading=12)
    pdf.line(60, y + 16, "Transcripts are untethered to the transcription site and move through", 12, "hebo")
    pdf.line(60, y + 32, "a slow-moving transcription-site-proximal zone where splicing occurs", 12, "hebo")
    pdf.line(60, y + 48, "after transcription is completed", 12, "hebo")
    y = pdf.column(60, y + 64, ["While conventional single-molecule RNA FISH allowed us to look closer."]
                   + [f"Result line {i} of this section is reported." for i in range(1, 5)], size=9, leading=12)
    pdf.line(60, y + 24, "Hyperscale intelligent computing cluster networks for", 16, "hebo")
    pdf.line(60, y + 46, "domestic computing power: critical challenges,", 16, "hebo")
    pdf.line(60, y + 68, "pathways, and future trends", 16, "hebo")
    pdf.column(60, y + 94, [f"Abstract line {i} of the English abstract runs on." for i in range(1, 5)], size=9, leading=12)
    blocks, _, _ = blocks_of(pdf.save())
    headings = [b.text for b in blocks if b.kind == "heading"]
    assert ("Transcripts are untethered to the transcription site and move through a slow-moving "
            "transcription-site-proximal zone where splicing occurs after transcription is completed") in headings
    assert ("Hyperscale intelligent computing cluster networks for domestic computing power: critical challenges, "
            "pathways, and future trends") in headings
    body = [b.text for b in blocks if b.kind == "body"]
    assert any(t.startswith("While conventional single-molecule") for t in body)
    assert not any(t.startswith(("a slow-moving", "after transcription", "domestic computing", "pathways")) for t in body)


def test_corpus_three_line_headings_stay_whole(shared_corpus):
    from ingest.parse import parse_pdf

    folder, _ = shared_corpus
    elife = parse_pdf(folder / "paper-20.pdf").blocks
    assert any(b.kind == "heading" and b.text.endswith("where splicing occurs after transcription is completed")
               for b in elife)
    assert not any(b.kind == "body" and b.text.startswith("a slow-moving transcription-site-proximal zone") for b in elife)
    title = parse_pdf(folder / "paper-30.pdf").blocks
    assert any(b.kind == "heading" and b.text.endswith("technical pathways, and future trends") for b in title)


def test_a_heading_in_the_texts_size_keeps_its_short_last_line(pdf):
    """BMC sets result headings in bold at the text's size over two lines; the short second line
    ("to Pseudomonas aeruginosa") opened the section's first paragraph, so the section was named
    by half its heading and the paragraph's first sentence read "to Pseudomonas aeruginosa To
    determine ...". A bold sentence that runs on full width stays body text."""
    pdf.new_page()
    y = pdf.column(60, 70, [f"Body line {i} of the first section goes on." for i in range(1, 6)], size=10, leading=13)
    pdf.line(60, y + 16, "Loss of the editing enzymes increases sensitivity of worms", 10, "hebo")
    pdf.line(60, y + 28, "to Pseudomonas aeruginosa", 10, "hebo")
    y = pdf.column(60, y + 42, ["To determine whether the enzymes influence survival, we infected them."]
                   + [f"Result line {i} of this section is reported." for i in range(1, 5)], size=10, leading=13)
    pdf.line(60, y + 16, "Worms lacking the enzymes exhibit an altered cuticle structure", 10, "hebo")
    pdf.line(60, y + 28, "and survival to several bacterial species", 10, "hebo")
    pdf.column(60, y + 42, ["As the molecular data suggest, the cuticle changes in mutant animals."]
               + [f"Closing line {i} of this section is reported." for i in range(1, 5)], size=10, leading=13)
    blocks, _, _ = blocks_of(pdf.save())
    headings = [b.text for b in blocks if b.kind == "heading"]
    assert "Loss of the editing enzymes increases sensitivity of worms to Pseudomonas aeruginosa" in headings
    assert "Worms lacking the enzymes exhibit an altered cuticle structure and survival to several bacterial species" in headings
    body = [b for b in blocks if b.kind == "body"]
    assert any(b.text.startswith("To determine whether") and b.section.endswith("to Pseudomonas aeruginosa") for b in body)
    assert any(b.text.startswith("As the molecular data suggest") for b in body)
    assert not any(b.text.startswith(("to Pseudomonas", "and survival")) for b in body)


def test_a_double_spaced_manuscripts_heading_keeps_its_last_line(pdf):
    """A manuscript (bioRxiv, PLOS Genetics) sets every line double-spaced, headings too: the last
    line of a bold heading sat too far below its first to be read as the heading's, and opened the
    paragraph ("forks We previously showed ..."). Two headings stacked as far apart stay two."""
    pdf.new_page()
    y = pdf.column(60, 70, [f"Body line {i} of the first section goes on." for i in range(1, 6)], size=11, leading=24)
    pdf.line(60, y + 6, "Results", 11, "hebo")
    pdf.line(60, y + 30, "Mutant larvae are hypersensitive to damaging agents that stall replication", 11, "hebo")
    pdf.line(60, y + 54, "forks", 11, "hebo")
    pdf.column(60, y + 78, ["We previously showed that the mutant larvae are sensitive to radiation."]
               + [f"Result line {i} of this section is reported." for i in range(1, 5)], size=11, leading=24)
    blocks, _, _ = blocks_of(pdf.save())
    headings = [b.text for b in blocks if b.kind == "heading"]
    assert headings == ["Results", "Mutant larvae are hypersensitive to damaging agents that stall replication forks"]
    assert any(b.kind == "body" and b.text.startswith("We previously showed") for b in blocks)


def test_tight_and_centred_titles_stay_whole(pdf):
    """A title set large on tight leading (its lines' boxes overlap: Genome Biology's "A
    comprehensive map of human" / "glucokinase variant activity") and a centred title whose second
    line is nearly as wide as its first (a Chinese journal's English title) each left their second
    line as a paragraph of its own."""
    pdf.new_page()
    pdf.line(60, 80, "A comprehensive map of human", 24)
    pdf.line(60, 110, "glucokinase variant activity", 24)  # the lines' boxes overlap by 3 pt
    pdf.line(60, 140, "Sarah Gersing, Matteo Cagiada and Rasmus Petersen", 11)
    pdf.line(71, 200, "Research on heterogeneous identifier namespace management and", 16, "hebo")
    pdf.line(99, 222, "control architecture in polymorphic network environment", 16, "hebo")
    pdf.line(173, 250, "GAO Shuai, HOU Xindi, LIU Ningchun", 10.5)
    pdf.line(64, 280, "A Data Access Control Scheme in Information-Centric Mobile", 14, "hebo")
    pdf.line(197, 296.8, "Ad Hoc Networks", 14, "hebo")  # boxes overlapping by 2.5 pt (a Chinese paper's English title)
    pdf.column(60, 330, [f"Body line {i} of the abstract runs on and on." for i in range(1, 8)], size=9, leading=12)
    blocks, _, _ = blocks_of(pdf.save())
    headings = [b.text for b in blocks if b.kind == "heading"]
    assert "A comprehensive map of human glucokinase variant activity" in headings
    assert ("Research on heterogeneous identifier namespace management and control architecture in polymorphic "
            "network environment") in headings
    assert not any(b.kind == "body" and b.text.startswith(("glucokinase", "control architecture")) for b in blocks)
    assert "A Data Access Control Scheme in Information-Centric Mobile Ad Hoc Networks" in headings


def test_a_title_whose_line_boxes_overlap_by_a_quarter_stays_whole(pdf):
    """Lines on a new row (the next line's top at least 3/4 of a box below the last one's) belong to
    one title however much their boxes overlap: Arial's 12 pt boxes are 17 pt tall, so a bioRxiv
    title on a 13.8 pt leading overlaps by 3.4 pt (28% of its size) and had been two headings; an
    IOP title's second line had been body text."""
    pdf.new_page()
    pdf.line(95, 100, "REV1 Coordinates a Multi-Faceted Tolerance Response to DNA Alkylation", 12, "hebo")
    pdf.line(91, 113.8, "Damage and Prevents Chromosome Shattering in Drosophila", 12, "hebo")  # 2.7 pt overlap
    pdf.line(60, 140, "Varandt Khodaverdian, Tokio Sano, Lara Maggs and Mitch McVey", 10)
    pdf.column(60, 170, [f"Body line {i} of the abstract runs on and on across the page." for i in range(1, 8)],
               size=10, leading=13)
    blocks, _, _ = blocks_of(pdf.save())
    headings = [b.text for b in blocks if b.kind == "heading"]
    assert ("REV1 Coordinates a Multi-Faceted Tolerance Response to DNA Alkylation Damage and Prevents Chromosome "
            "Shattering in Drosophila") in headings, headings
    assert not any(h.startswith("Damage and Prevents") for h in headings)


def test_corpus_headings_in_the_texts_size_keep_their_last_line(shared_corpus):
    from ingest.parse import parse_pdf

    folder, _ = shared_corpus
    bmc = parse_pdf(folder / "paper-24.pdf").blocks
    assert any(b.kind == "heading" and b.text.endswith("sensitivity of C. elegans to Pseudomonas aeruginosa") for b in bmc)
    assert any(b.kind == "body" and b.text.startswith("To determine whether C. elegans ADR-1 and ADR-2") for b in bmc)
    assert not any(b.kind == "body" and b.text.startswith(("to Pseudomonas aeruginosa", "infection The upregulation"))
                   for b in bmc)
    manuscript = parse_pdf(folder / "paper-33.pdf").blocks  # double-spaced
    # its two-line title, whose Arial boxes overlap by 28% of its size, is one heading (parser 64)
    assert manuscript[0].kind == "heading" and manuscript[0].text.endswith("Chromosome Shattering in Drosophila melanogaster")
    iop = parse_pdf(folder / "paper-08.pdf").blocks
    assert any(b.kind == "heading" and b.text.endswith("made from germinated wheat to enrich drinks") for b in iop)
    assert any(b.kind == "heading" and b.text.endswith("damaging agents that stall replication forks") for b in manuscript)
    assert not any(b.kind == "body" and b.text.startswith(("forks We", "compromised In")) for b in manuscript)
    titles = [b for name in ("paper-25.pdf", "paper-26.pdf") for b in parse_pdf(folder / name).blocks if b.page == 1]
    assert any(b.kind == "heading" and b.text == "A comprehensive map of human glucokinase variant activity" for b in titles)
    assert not any(b.kind == "body" and b.text.startswith("control architecture in polymorphic") for b in titles)
    assert any(b.kind == "heading" and b.text.endswith("Information-Centric Mobile Ad Hoc Networks")
               for b in parse_pdf(folder / "paper-28.pdf").blocks)
    embo = parse_pdf(folder / "paper-03.pdf").blocks  # a heading a point larger than the text, not bold
    assert any(b.kind == "heading" and b.text.endswith("involved in Arabidopsis response to drought") for b in embo)
    assert not any(b.kind == "body" and b.text == "to drought" for b in embo)


def test_a_run_in_heads_last_line_ends_the_heading_and_opens_the_paragraph(pdf):
    """Nature and ACL run a bold head into the paragraph: its last line holds the head's end in bold
    ("yeast", the stop often in the text's face) and the paragraph's first words. The section was
    named by the head's first line and the paragraph opened "yeast. Previous work found ..."."""
    pdf.new_page()
    y = pdf.column(60, 70, [f"Body line {i} of the first section goes on." for i in range(1, 6)], size=10, leading=13)
    pdf.line(60, y + 16, "Construction of an opioid biosensor in a cholesterol-producing", 10, "hebo")
    run_in(pdf, y + 28, "yeast", ". Previous work found that the receptor was only able to bind")
    y = pdf.column(60, y + 41, ["agonists in lysates of the engineered strains that we made."]
                   + [f"Result line {i} of this section is reported." for i in range(1, 4)], size=10, leading=13)
    pdf.line(60, y + 16, "Long-form summaries are rarely evaluated by", 10, "hebo")
    run_in(pdf, y + 28, "humans.", " We find that most of the papers do not perform any evaluation")
    pdf.column(60, y + 41, ["by humans at all, and a few evaluate short summaries only."]
               + [f"Closing line {i} of this section is reported." for i in range(1, 4)], size=10, leading=13)
    blocks, _, _ = blocks_of(pdf.save())
    headings = [b.text for b in blocks if b.kind == "heading"]
    assert "Construction of an opioid biosensor in a cholesterol-producing yeast." in headings
    assert "Long-form summaries are rarely evaluated by humans." in headings
    body = [b for b in blocks if b.kind == "body"]
    assert any(b.text.startswith("Previous work found that the receptor was only able to bind agonists in lysates")
               and b.section.endswith("yeast.") for b in body)
    assert any(b.text.startswith("We find that most of the papers") for b in body)
    assert not any(b.text.startswith(("yeast", "humans")) for b in body)


def test_a_paragraphs_bold_run_in_head_is_a_heading_of_its_own(pdf):
    """PNAS and Springer set subsections as bold run-in heads ("PARP1 Is UFMylated on K548. To
    identify ...", "Molecular genetics  Next-generation sequencing ..."), often with no gap above:
    the heads were their paragraphs' first words, or the previous paragraph's last. A structured
    abstract keeps its labels in its text."""
    pdf.new_page()
    pdf.line(60, 60, "Abstract", 12, "hebo")
    run_in(pdf, 80, "Aims and hypothesis:", " The channel couples beta cell electrical activity to insulin secretion.")
    y = pdf.column(60, 93, [f"Abstract line {i} of the structured abstract runs on." for i in range(1, 4)], size=10)
    pdf.line(60, y + 16, "Methods", 12, "hebo")
    y = pdf.column(60, y + 36, [f"Methods line {i} of the first part is reported in full." for i in range(1, 5)], size=10)
    run_in(pdf, y, "Molecular genetics.", " Next-generation sequencing found the variant in her DNA.")  # no gap above
    y = pdf.column(60, y + 13, [f"Genetics line {i} of this part is reported in full." for i in range(1, 5)], size=10)
    run_in(pdf, y + 16, "PARP1 Is UFMylated on K548.", " To identify the mechanism we performed assays.")
    pdf.column(60, y + 29, [f"Result line {i} of this part is reported in full." for i in range(1, 5)], size=10)
    blocks, _, _ = blocks_of(pdf.save())
    headings = [b.text for b in blocks if b.kind == "heading"]
    assert headings == ["Abstract", "Methods", "Molecular genetics", "PARP1 Is UFMylated on K548"]
    body = {b.section: b.text for b in blocks if b.kind == "body"}
    assert body["Molecular genetics"].startswith("Next-generation sequencing found the variant")
    assert body["PARP1 Is UFMylated on K548"].startswith("To identify the mechanism")
    assert body["Abstract"].startswith("Aims and hypothesis:") and body["Methods"].endswith("reported in full.")


def test_corpus_run_in_heads_end_in_their_heading(shared_corpus):
    from ingest.parse import parse_pdf

    folder, _ = shared_corpus
    nature = parse_pdf(folder / "paper-31.pdf").blocks  # its bold face's ligatures are in a font "...B+fb"
    headings = {b.text for b in nature if b.kind == "heading"}
    assert "Construction of an opioid biosensor in a cholesterol-producing yeast." in headings
    assert "An array of biosensors based on different opioid receptors reveals fidelity of agonist selectivity." in headings
    assert any(b.kind == "body" and b.text.startswith("Previous work found that yeast-expressed human mu opioid")
               for b in nature)
    springer = parse_pdf(folder / "paper-27.pdf").blocks
    assert any(b.section == "Molecular genetics" and b.text.startswith("Next-generation sequencing") for b in springer)
    assert any(b.section == "Ethics statement" and b.text.startswith("Our research studies") for b in springer)
    pnas = parse_pdf(folder / "paper-06.pdf").blocks  # the head's last line is set in the text's size
    assert any(b.kind == "heading" and b.text.endswith("Stalled Replication Fork Stability and Restart.") for b in pnas)
    acl = parse_pdf(folder / "paper-17.pdf").blocks
    assert any(b.kind == "heading" and b.text == "Long-form summaries are rarely evaluated by humans." for b in acl)
    assert not any(b.kind == "body" and b.text.startswith(("humans. We find", "maries are not")) for b in acl)


def test_a_legend_continued_overleaf_stays_a_caption(pdf):
    """eLife ends a long legend with "Figure 2 continued on next page" and goes on at the top of the
    next page in the legend's small type: those lines were body text that ran into the Results."""
    pdf.new_page()
    y = pdf.column(60, 70, [f"Body line {i} of the results section goes on." for i in range(1, 8)], size=9, leading=12)
    pdf.line(60, y + 20, "Figure 2. Transcripts dwell at the site of transcription after completion.", 7)
    pdf.line(60, y + 29, "(A) Schematic of the probes. (B) Images of transcription sites, each a max merge of", 7)
    pdf.line(60, y + 38, "Figure 2 continued on next page", 7)
    pdf.new_page()
    pdf.line(60, 60, "thirty optical sections. (C) Simulated RNA FISH signal for three potential scenarios.", 7)
    pdf.line(60, 69, "Scale bar = 5 um.", 7)
    pdf.column(60, 100, ["While conventional single-molecule RNA FISH allowed us to look closer."]
               + [f"Result line {i} of the next section is reported." for i in range(1, 6)], size=9, leading=12)
    blocks, _, _ = blocks_of(pdf.save())
    captions = [b.text for b in blocks if b.kind == "caption"]
    assert any(t.startswith("thirty optical sections") and t.endswith("Scale bar = 5 um.") for t in captions), captions
    body = [b.text for b in blocks if b.kind == "body"]
    assert not any("optical sections" in t or "Scale bar" in t for t in body)
    assert any(t.startswith("While conventional single-molecule") for t in body)


def test_corpus_elife_legends_continued_overleaf_are_captions(shared_corpus):
    from ingest.parse import parse_pdf

    folder, _ = shared_corpus
    blocks = parse_pdf(folder / "paper-20.pdf").blocks
    overleaf = [b for b in blocks if "simulated RNA FISH signal for three potential scenarios" in b.text]
    assert overleaf and all(b.kind == "caption" for b in overleaf)


def test_a_centred_caption_does_not_take_in_the_paragraph_below(pdf):
    """Chinese journals centre a one-line figure caption in the body's size; the paragraph under it
    (its first line indented, starting left of the caption) was read as more of the caption."""
    pdf.new_page()
    y = pdf.column(60, 70, [f"正文第{i}行介绍移动切换的实验过程和测试方法。" for i in range(1, 6)], size=10, leading=15, font="china-s")
    pdf.line(170, y + 30, "图9 移动切换性能测试结果", 10, "china-s")
    pdf.column(80, y + 48, ["图9 为MN 移动切换30 次获取的实验结果。其中切换时延"], size=10, leading=15, font="china-s")
    pdf.column(60, y + 63, ["最大值为75 ms，最小值为41 ms，图中横线为平均值55 ms。",
                            "从实验结果来看，该移动性管理机制能够满足大部分实时应用需求。"], size=10, leading=15, font="china-s")
    blocks, _, _ = blocks_of(pdf.save())
    assert [b.text for b in blocks if b.kind == "caption"] == ["图9 移动切换性能测试结果"]
    assert any(b.kind == "body" and b.text.startswith("图9 为MN") and "75 ms" in b.text for b in blocks)


def test_corpus_centred_chinese_captions_end_at_their_line(shared_corpus):
    from ingest.parse import parse_pdf

    folder, _ = shared_corpus
    blocks = parse_pdf(folder / "paper-01.pdf").blocks
    assert any(b.kind == "caption" and b.text == "图9移动切换性能测试结果" for b in blocks)
    assert any(b.kind == "body" and "切换时延最大值为75 ms" in b.text for b in blocks)
    headings = {b.text for b in blocks if b.kind == "heading"}  # set in 方正黑体, the body's size
    assert {"2.1可编程平台下标识网络总体架构设计与原理", "3.1实验环境", "3.3性能测试"} <= headings


def test_numbered_chinese_headings_set_in_a_hei_face_are_headings(pdf):
    """Chinese journals set "2.1 ……" headings in a Hei face (方正黑体, SimHei) at the body's size, the
    number in a bold Latin font beside it: read as body text, the heading was glued to the paragraph
    under it. Hei also sets table titles, which stay as they are."""
    page = pdf.new_page()
    page.insert_font(fontname="F0", fontbuffer=pymupdf.Font("china-s").buffer)  # renamed SimHei below
    y = pdf.column(60, 70, [f"正文第{i}行介绍标识网络的总体架构和主要模块。" for i in range(1, 5)], size=10, leading=15, font="china-s")
    page.insert_text((60, y + 20), "2.1", fontsize=10, fontname="hebo")
    page.insert_text((73.9, y + 20), "可编程平台下的总体架构", fontsize=10, fontname="F0")  # no space between
    y = pdf.column(80, y + 35, ["基于可编程平台的控制与转发分离的理念，标识网络架构总体"], size=10, leading=15, font="china-s")
    y = pdf.column(60, y, [f"分为数据平面和控制平面两部分设计，第{i}行。" for i in range(1, 4)], size=10, leading=15, font="china-s")
    page.insert_text((120, y + 20), "多模态网络原型系统功能", fontsize=10, fontname="F0")  # a table's title
    pdf.column(60, y + 40, [f"表中第{i}行列出各模态的主要功能和应用。" for i in range(1, 4)], size=10, leading=15, font="china-s")
    doc = pdf.doc
    _rename_font(doc, {f[4]: f[0] for f in page.get_fonts()}["F0"], "/ABCDEF+SimHei")
    blocks, _, _ = blocks_of(pdf.save())
    headings = [b.text for b in blocks if b.kind == "heading"]
    assert "2.1可编程平台下的总体架构" in [h.replace(" ", "") for h in headings], headings
    assert any(b.kind == "body" and b.text.startswith("基于可编程平台的控制") for b in blocks)
    assert not any("原型系统功能" in h for h in headings)


def test_three_level_chinese_headings_set_in_a_kai_face_are_headings(pdf):
    """Third-level headings ("2.2.1基础通信工作流程") are set in a Kai face (方正楷体, KaiTi) at the
    body's size, the number in the body's own Latin face. Kai also sets abstracts, so a line in it
    that starts with a two-level number ("2.5倍……") is not a heading."""
    page = pdf.new_page()
    page.insert_font(fontname="F0", fontbuffer=pymupdf.Font("china-s").buffer)  # renamed KaiTi below
    y = pdf.column(60, 70, [f"正文第{i}行介绍标识网络的基础通信流程。" for i in range(1, 5)], size=10, leading=15, font="china-s")
    # in the flow of the text at its leading, as printed: no space above or below to tell it apart
    page.insert_text((60, y), "2.2.1", fontsize=10, fontname="helv")  # the body's Latin face
    page.insert_text((82.3, y), "基础通信工作流程", fontsize=10, fontname="F0")  # no space between
    y = pdf.column(80, y + 15, ["以图1中的拓扑结构下移动终端与有线终端的通信为例介绍"], size=10, leading=15, font="china-s")
    y = pdf.column(60, y, [f"基于可编程平台的标识网络通信的具体工作流程，第{i}行。" for i in range(1, 4)], size=10, leading=15, font="china-s")
    page.insert_text((60, y), "2.5倍的吞吐量提升表明该机制的转发性能较好", fontsize=10, fontname="F0")
    pdf.column(60, y + 15, [f"摘要第{i}行继续说明实验结果。" for i in range(1, 3)], size=10, leading=15, font="china-s")
    _rename_font(pdf.doc, {f[4]: f[0] for f in page.get_fonts()}["F0"], "/ABCDEF+KaiTi_GB2312")
    blocks, _, _ = blocks_of(pdf.save())
    headings = [b.text.replace(" ", "") for b in blocks if b.kind == "heading"]
    assert "2.2.1基础通信工作流程" in headings, headings
    assert any(b.kind == "body" and b.text.startswith("以图1中的拓扑结构") for b in blocks)
    assert not any("2.5倍" in h for h in headings)


def test_corpus_kai_headings_are_headings(shared_corpus):
    from ingest.parse import parse_pdf

    folder, _ = shared_corpus
    blocks = parse_pdf(folder / "paper-01.pdf").blocks  # 2．2．1 in E-BZ, its title in 方正楷体_GBK
    headings = {b.text for b in blocks if b.kind == "heading"}
    assert {"2.1.1数据平面设计", "2.2.1基础通信工作流程", "2.2.2移动切换工作流程"} <= headings
    assert not any(b.kind == "body" and b.text.startswith("2.2.1") for b in blocks)


def _rename_font(doc: pymupdf.Document, xref: int, name: str) -> None:
    """Give a Type0 font, its descendant and its descriptor another name (MuPDF reports the last)."""
    doc.xref_set_key(xref, "BaseFont", name)
    descendant = int(re.search(r"(\d+) 0 R", doc.xref_get_key(xref, "DescendantFonts")[1]).group(1))
    doc.xref_set_key(descendant, "BaseFont", name)
    descriptor = int(doc.xref_get_key(descendant, "FontDescriptor")[1].split()[0])
    doc.xref_set_key(descriptor, "FontName", name)


def test_gbk_font_names_are_read():
    from ingest.textfix import font_name

    assert font_name("·½ÕýºÚÌå_GBK") == "方正黑体_GBK" and font_name("Times-Bold") == "Times-Bold"


def test_bold_faces_are_read_from_adobe_font_names():
    """Adobe's renamed fonts say their weight only in a suffix: "-B" bold, "-H" heavy (Cell's
    subheadings in "AdvPSHN-H" were glued to their paragraphs), a bold face's ligatures in
    "...B+fb"; a CJK font's "-UCS2-H" is its writing direction, not a weight."""
    from ingest.layout import _BOLD_FONT

    assert all(_BOLD_FONT.search(name) for name in ("AdvPSHN-H", "AdvOTb65e897d.B", "AdvOTb65e897d.B+fb", "Times-Bold"))
    assert not any(_BOLD_FONT.search(name) for name in ("AdvPSHN-M", "AdvOTb65e897d", "STSong-Light-UniGB-UCS2-H"))


def test_subheadings_a_little_larger_in_another_face_are_headings(pdf):
    """NAR sets subheadings in Univers at 10 pt over text in Sabon at 9.2 (Nature Communications
    likewise, half a point up): neither bold nor a point larger, they had opened their paragraphs
    ("Bacterial growth Modification enzyme expression vectors were ..."). A byline or a keyword
    line in such type stays text."""
    pdf.new_page()
    y = pdf.column(60, 70, [f"Body line {i} of the methods goes on in the text's face." for i in range(1, 9)],
                   size=9.2, leading=12, font="tiro")
    pdf.line(60, y + 14, "Bacterial growth", 10)
    y = pdf.column(60, y + 28, ["Modification enzyme expression vectors were transformed into cells."]
                   + [f"Growth line {i} of this part is reported here in full." for i in range(1, 6)],
                   size=9.2, leading=12, font="tiro")
    pdf.line(60, y + 14, "Keywords: proteomics; genomics; brewing yeast", 10)
    pdf.column(60, y + 28, [f"Closing line {i} of the methods is reported here." for i in range(1, 6)],
               size=9.2, leading=12, font="tiro")
    blocks, _, _ = blocks_of(pdf.save())
    assert [b.text for b in blocks if b.kind == "heading"] == ["Bacterial growth"]
    assert any(b.section == "Bacterial growth" and b.text.startswith("Modification enzyme expression") for b in blocks)


def test_a_heading_whose_second_line_is_the_longer_stays_whole(pdf):
    """A heading breaks where it likes: NAR's "Tissue-specificity in DNA" over the longer
    "hypomethylation-associated mutational coldspots" was read as a sentence running on (its first
    line's words opened the paragraph); a sentence's first line runs full width."""
    pdf.new_page()
    y = pdf.column(60, 70, [f"Body line {i} of the results goes on in the text's face." for i in range(1, 9)],
                   size=9.2, leading=12, font="tiro")
    pdf.line(60, y + 14, "Tissue-specificity in DNA", 10)
    pdf.line(60, y + 26, "hypomethylation-associated mutational coldspots", 10)
    pdf.column(60, y + 40, ["We considered the differences in local DNA hypomethylation between tissues."]
               + [f"Result line {i} of this part is reported here in full." for i in range(1, 6)], size=9.2, leading=12,
               font="tiro")
    blocks, _, _ = blocks_of(pdf.save())
    assert [b.text for b in blocks if b.kind == "heading"] == [
        "Tissue-specificity in DNA hypomethylation-associated mutational coldspots"]
    assert any(b.text.startswith("We considered the differences") for b in blocks if b.kind == "body")


def test_corpus_subheadings_in_another_face_are_headings(shared_corpus):
    from ingest.parse import parse_pdf

    folder, _ = shared_corpus
    nar = parse_pdf(folder / "paper-02.pdf")
    assert {"Bacterial growth", "Modification enzymes stimulate large ribosome subunit assembly"} <= {
        b.text for b in nar.blocks if b.kind == "heading"}
    comms = parse_pdf(folder / "paper-32.pdf").blocks
    assert any(b.section == "Reconstruction of ancestral sequences" and b.text.startswith("To infer the ancestral")
               for b in comms)
    assert parse_pdf(folder / "paper-19.pdf").metadata.keywords[:2] == ("proteomics", "genomics")
    nar2 = parse_pdf(folder / "paper-10.pdf").blocks
    assert any(b.section == "Tissue-specificity in DNA hypomethylation-associated mutational coldspots"
               and b.text.startswith("We considered the differences") for b in nar2)


def test_italic_numbered_subheadings_are_headings(pdf):
    """MDPI sets its numbered subheadings in italics at the text's size ("4.2. DNA Manipulation"):
    not bold, not larger, they had opened their paragraphs. One that wraps keeps its second line
    (its "2.3. R" is the numbering's stop, not a sentence's end)."""
    pdf.new_page()
    y = pdf.column(60, 70, [f"Body line {i} of the methods goes on in the text's face." for i in range(1, 9)],
                   size=10, leading=13, font="tiro")
    pdf.line(60, y + 14, "4.2. DNA Manipulation", 10, "tiit")
    y = pdf.column(60, y + 28, ["We used tripartite ligation and double-crossover recombination methods."]
                   + [f"Method line {i} of this part is reported here in full." for i in range(1, 6)], size=10, leading=13,
                   font="tiro")
    pdf.line(60, y + 14, "2.3. R.DraR1 of the DraI System Could Specifically Cleave Unmethylated or Methylated", 10, "tiit")
    pdf.line(60, y + 26, "Sequences In Vitro", 10, "tiit")
    pdf.column(60, y + 40, ["The R.DraR1 protein was purified and found to be a homodimer in solution."]
               + [f"Result line {i} of this part is reported here in full." for i in range(1, 6)], size=10, leading=13,
               font="tiro")
    blocks, _, _ = blocks_of(pdf.save())
    assert [b.text for b in blocks if b.kind == "heading"] == [
        "4.2. DNA Manipulation", "2.3. R.DraR1 of the DraI System Could Specifically Cleave Unmethylated or Methylated "
        "Sequences In Vitro"]
    assert any(b.text.startswith("The R.DraR1 protein") and b.section.startswith("2.3.") for b in blocks)


def test_corpus_mdpi_italic_subheadings_are_headings(shared_corpus):
    from ingest.parse import parse_pdf

    folder, _ = shared_corpus
    blocks = parse_pdf(folder / "paper-11.pdf").blocks
    assert {"4.2. DNA Manipulation", "4.10. Statistical Analysis"} <= {b.text for b in blocks if b.kind == "heading"}
    assert any(b.kind == "body" and b.section == "4.2. DNA Manipulation" and b.text.startswith("We used tripartite")
               for b in blocks)


def test_corpus_cell_subheadings_in_a_heavy_face_are_headings(shared_corpus):
    from ingest.parse import parse_pdf

    folder, _ = shared_corpus
    blocks = parse_pdf(folder / "paper-23.pdf").blocks
    headings = {b.text for b in blocks if b.kind == "heading"}
    assert {"Viral discovery", "Viral integration", "Experimental infection of amphibians", "METHOD DETAILS"} <= headings
    assert any(b.kind == "body" and b.section == "Viral integration" and b.text.startswith("To test whether BdDV-1")
               for b in blocks)


def test_section_names_starting_with_a_to_h_are_known_names():
    """A heading's letter numbering ("A Background", "B. PDF filters") is dropped before its name is
    matched; "Abstract", "Discussion" or "Funding" have none ("bstract" had matched no name, and the
    back matter printed after the references was read as more references)."""
    from ingest.headings import bare_name

    assert [bare_name(t) for t in ("Abbreviations", "Discussion", "Funding", "ACKNOWLEDGEMENTS")] == [
        "abbreviations", "discussion", "funding", "acknowledgements"]
    assert bare_name("A Background & Terminology") == "background & terminology" and bare_name("B. PDF filters") == "pdf filters"


def test_a_tables_header_cells_are_not_headings(pdf):
    """Bold header cells side by side ("Compound", "Fold change", "P-value") are a table row: taken
    for headings they named the section of the text after the table."""
    pdf.new_page()
    pdf.line(60, 60, "Results", size=12, font="hebo")
    y = pdf.column(60, 80, [f"Metabolite levels changed under heat stress in line {i} of the study." for i in range(1, 4)])
    for x, cell in ((60, "Compound"), (200, "Fold change"), (330, "P-value")):
        pdf.line(x, y + 15, cell, font="hebo")
    y = pdf.column(60, y + 30, [f"Sucrose {i}      2.{i}      0.0{i}" for i in range(1, 4)])
    pdf.column(60, y + 15, [f"Grain yield per spike fell by a quarter in the {w} plants." for w in ("stressed", "tolerant")])
    blocks, _, _ = blocks_of(pdf.save())
    assert [b.text for b in blocks if b.kind == "heading"] == ["Results"]
    assert all(b.section == "Results" for b in blocks)


def test_corpus_back_matter_and_table_cells(shared_corpus):
    from ingest.parse import parse_pdf

    folder, _ = shared_corpus
    sections = {b.section for b in parse_pdf(folder / "paper-04.pdf").blocks}
    assert "Discussion" in sections and not sections & {"Fold change", "P-value", "Compound", "FV/FM"}
    parsed = parse_pdf(folder / "paper-32.pdf")  # acknowledgements after the references, in the body
    assert {"Acknowledgements", "Author contributions"} <= {b.section for b in parsed.blocks}
    assert not any(r.startswith("Acknowledgements") for r in parsed.references)


def test_body_size_is_read_before_the_reference_list(pdf):
    """A short review's references (and tables) in small type can outweigh its body text; the body's
    size is the commonest before the reference list, or its wrapped lines read as headings a size up."""
    pdf.new_page()
    pdf.line(60, 60, "Introduction", size=12, font="hebo")
    body = ["Three prophylactic modalities are common: pharmacologic anticoagulation, mechanical",
            "compression devices, and inferior vena cava filtration. A systematic review was",
            "completed to evaluate the potential complications of each prophylactic option, and"]
    y = pdf.column(60, 80, body * 4, size=10, leading=13)
    pdf.line(60, y + 10, "References", size=12, font="hebo")
    refs = [f"{i}. Author A, Author B: Thromboprophylaxis in trauma patients, part {i}. J Trauma 2008, {i}:1-9."
            for i in range(1, 60)]
    pdf.column(60, y + 28, refs[:45], size=7, leading=9)
    pdf.new_page()
    pdf.column(60, 60, refs[45:], size=7, leading=9)
    blocks, references, _ = blocks_of(pdf.save())
    assert [b.text for b in blocks if b.kind == "heading"] == ["Introduction"]
    assert any(b.kind == "body" and b.text.startswith("Three prophylactic modalities") for b in blocks)
    assert len(references) >= 50


def test_corpus_short_review_keeps_its_abstract_and_sections(shared_corpus):
    from ingest.parse import parse_pdf

    folder, _ = shared_corpus
    parsed = parse_pdf(folder / "paper-13.pdf")  # 63% of its text is references and tables in 7.3 pt
    assert "Inferior vena cava filters migrate" in parsed.metadata.abstract
    assert {b.section for b in parsed.blocks} >= {"Abstract", "Introduction", "Methods", "Conclusion"}
    assert not any(b.section.startswith(("Three prophylactic", "LMWHs,")) for b in parsed.blocks)


def test_long_paragraphs_are_cut_at_sentence_ends_without_changing_the_text():
    """Every "." had been a cut, and the pieces were joined with a space: "2.6%" read "2. 6%", "e.g."
    read "e. g." in every paragraph over 2,000 characters (corpus: 75 decimals on 13 papers)."""
    from ingest.textfix import split_long

    text = " ".join(f"Bleeding risk was 2.{i}% (e.g. in trial {i}), see Fig. 3." for i in range(60)) + "中文句子。第二句！" * 20
    parts = split_long(text)
    assert len(parts) > 1 and all(len(p) <= 2000 for p in parts)
    assert re.sub(r"\s", "", "".join(parts)) == re.sub(r"\s", "", text)  # nothing changed but the cuts
    assert not any("2. " in p or "e. g." in p for p in parts)
    assert all(p.endswith((".", "。", "！")) for p in parts)


def test_line_numbers_go_but_a_headings_number_at_the_columns_edge_stays(pdf):
    """Numbers in the margin outside the text (a preprint's line numbers) are dropped; a heading's
    number printed as a fragment of its own at the column's left edge ("3" of "3 Results", "0引言")
    is the heading's, and a table's first column of numbers is the table's."""
    pdf.new_page()
    y = 80
    for i in range(1, 7):
        pdf.line(30, y, str(i), size=8)  # line numbers, left of the text
        pdf.line(72, y, f"Body line {i} describes how the handover delay was measured on the testbed", size=10)
        y += 13
    pdf.line(72, y + 12, "3", size=12, font="hebo")
    pdf.line(90, y + 12, "Results and evaluation", size=12, font="hebo")
    pdf.column(72, y + 30, [f"Result line {i} reports the delay of each handover in milliseconds" for i in range(1, 4)])
    blocks, _, _ = blocks_of(pdf.save())
    assert [b.text for b in blocks if b.kind == "heading"] == ["3 Results and evaluation"]
    body = " ".join(b.text for b in blocks if b.kind == "body")
    assert "Body line 1 describes" in body and not any(f" {i} Body line" in body for i in range(2, 7))


def test_corpus_heading_numbers_and_table_numbers_are_kept(shared_corpus):
    from ingest.parse import parse_pdf

    folder, _ = shared_corpus
    sections = {b.section for b in parse_pdf(folder / "paper-01.pdf").blocks}
    assert {"0引言", "3原型系统搭建与测试"} <= sections
    sections = {b.section for b in parse_pdf(folder / "paper-16.pdf").blocks}
    assert {"1 Introduction", "6 Applications of S2ORC"} <= sections


def test_a_bold_abstracts_lines_and_an_abstract_set_a_size_up_are_not_headings(pdf):
    """PNAS sets its abstract in bold: a line of eleven words in it read as a heading ("UFMylation,
    delayed CHK1 activation and inhibits nascent DNA degradation during") and cut the abstract.
    Nature Communications sets its abstract a size up: its ten-word first line read as one."""
    pdf.new_page()
    pdf.line(60, 60, "Abstract", size=12, font="hebo")
    bold = ["The S-phase checkpoint involving CHK1 is essential for fork stability in response to fork",
            "stalling and PARP1 acts as a sensor of replication stress that is required for",
            "UFMylation, delayed CHK1 activation and inhibits nascent DNA degradation during",
            "replication blockage as seen in PARP1-deficient cells, which we confirm here."]
    y = pdf.column(60, 80, bold, font="hebo")
    larger = ["The archaeal ancestor of eukaryotes apparently belonged to the phylum",
              "Asgardarchaeota, but the ecology and evolution of Asgard archaea are poorly",
              "understood, and the optimal GDP-binding temperature of a translation factor",
              "correlates with the optimal growth temperature of diverse prokaryotes, so",
              "we reconstructed ancestral sequences of the factor to estimate it."]
    y = pdf.column(60, y + 30, larger, size=11, leading=14)
    pdf.column(60, y + 20, [f"Body text line {i} of the introduction, which is set in the body's size." for i in range(1, 9)], size=9)
    blocks, _, _ = blocks_of(pdf.save())
    assert [b.text for b in blocks if b.kind == "heading"] == ["Abstract"]
    text = " ".join(b.text for b in blocks)
    assert "required for UFMylation, delayed CHK1" in text and "the phylum Asgardarchaeota" in text


def test_corpus_abstracts_are_whole(shared_corpus):
    from ingest.parse import parse_pdf

    folder, _ = shared_corpus
    pnas = parse_pdf(folder / "paper-06.pdf").metadata.abstract  # bold abstract
    assert pnas.startswith("The S-phase checkpoint") and pnas.endswith("thus safeguarding genome integrity.")
    nature = parse_pdf(folder / "paper-32.pdf").metadata.abstract  # an abstract set a size up
    assert nature.startswith("The archaeal ancestor of eukaryotes apparently belonged to the phylum Asgardarchaeota")


def test_a_drop_cap_joins_its_line_and_capital_keywords_are_an_inline_head(pdf):
    """A drop cap over three lines ("A" + "cinetobacter spp. are ...") took the line's size up, and
    the paragraph's first line read as a heading set large; "KEYWORDS antibiotic resistance, ..."
    (ASM: capitals, then a lower-case word) was read into the abstract, the keywords left empty."""
    pdf.new_page()
    pdf.line(42, 60, "ABSTRACT The two species that account for most cases of bacteremia differ in resistance.", size=9)
    pdf.line(42, 80, "KEYWORDS antibiotic resistance, virulence, efflux pumps, Gram-negative bacteria", size=9)
    pdf.line(42, 128, "A", size=27)
    pdf.line(59.5, 110, "cinetobacter spp. are Gram-negative, soil-dwelling Gammaproteobacteria. Despite", size=9)
    pdf.column(59.5, 121, ["being typically found in soil, some species within the genus also cause severe",
                           "infections in hospitals, and the two species differ in how they resist drugs."], size=9, leading=11)
    pdf.column(42, 143, [f"Body line {i} goes on about the strains that were used in this study here." for i in range(1, 5)],
               size=9, leading=11)
    blocks, _, _ = blocks_of(pdf.save())
    assert not [b.text for b in blocks if b.kind == "heading"]
    assert any(b.section == "Keywords" and b.text.startswith("KEYWORDS antibiotic") for b in blocks)
    assert any(b.text.startswith("Acinetobacter spp. are Gram-negative") for b in blocks)


def test_corpus_asm_keywords_and_drop_cap(shared_corpus):
    from ingest.parse import parse_pdf

    folder, _ = shared_corpus
    parsed = parse_pdf(folder / "paper-15.pdf")
    assert parsed.metadata.keywords[:3] == ("antibiotic resistance", "virulence", "efflux pumps")
    assert parsed.metadata.abstract.endswith("could inform future novel treatment strategies.")
    assert not any(b.kind == "heading" and "cinetobacter spp. are" in b.text for b in parsed.blocks)


def test_a_licence_line_at_the_foot_opens_the_footnotes(pdf):
    """An author manuscript's page ends with its licence, the corresponding author and the author
    contributions in small type, the first without a mark: "Author contributions:" had become a
    section, and the abstract's end on the next page fell under it."""
    pdf.new_page()
    pdf.line(60, 60, "Abstract", size=12, font="hebo")
    y = pdf.column(60, 80, [f"Abstract line {i} says what the engineered circuits were built to do." for i in range(1, 40)]
                   + ["so that tumor-specific receptors locally"], size=10, leading=15)
    notes = ["This work is licensed under a Creative Commons Attribution 4.0 International License.",
             "*Corresponding author. lab@example.edu.", "Author contributions:",
             "Conceptualization: GMA, NWF. Methodology: GMA, NWF, MAY."]
    pdf.column(60, y + 10, notes, size=8, leading=10)
    pdf.new_page()
    pdf.column(60, 80, ["induce production of the cytokine interleukin-2 in the tumor, which we show here."]
               + [f"Next line {i} of the abstract carries on with the circuits." for i in range(1, 5)], size=10, leading=15)
    blocks, _, _ = blocks_of(pdf.save())
    assert [b.text for b in blocks if b.kind == "heading"] == ["Abstract"]
    assert any(b.kind == "footnote" and b.text.startswith("This work is licensed") for b in blocks)
    assert all(b.section == "Abstract" for b in blocks)


def test_a_chinese_journals_unmarked_publishing_matter_at_the_first_pages_foot_is_footnotes(pdf):
    """电信科学's first page: 10.5 pt Chinese text above, then the English abstract in 9 pt, then the
    dates, corresponding author and funding in 8.5 pt without a mark; the abstract goes on overleaf.
    The publishing matter had been body text between the abstract's two halves, and a sentence
    joined across it was quoted ("浙江省重点研发计划项目…Foundation Items: … clusters has become an
    imperative.")."""
    pdf.new_page()
    pdf.column(60, 80, [f"第{i}行正文介绍智算集群网络的研究背景与意义。" for i in range(1, 20)], size=10.5, leading=16,
               font="china-s")
    pdf.line(60, 420, "Abstract: With the rapid advancement of large-scale models, constructing", size=9)
    notes = ["收稿日期：2025-06-04；修回日期：2025-09-22", "通信作者：朱俊，zhu_j@example.com",
             "基金项目：国家自然科学基金资助项目（No.U22A2005）", "Foundation Items: The National Natural Science",
             "Foundation of China (No.U22A2005)"]
    for i, text in enumerate(notes):
        pdf.line(60, 660 + 12 * i, text, size=8.5, font="china-s" if i < 3 else "helv")
    pdf.new_page()
    pdf.line(60, 80, "ultra-large-scale intelligent computing clusters has become an imperative.", size=9)
    pdf.column(60, 110, [f"第{i}行正文继续讨论网络架构。" for i in range(1, 20)], size=10.5, leading=16, font="china-s")
    blocks, _, _ = blocks_of(pdf.save())
    notes_read = [b.text for b in blocks if b.kind == "footnote"]
    assert [n[:4] for n in notes_read] == ["收稿日期", "通信作者", "基金项目", "Foun"]
    assert notes_read[-1] == "Foundation Items: The National Natural Science Foundation of China (No.U22A2005)"
    assert not any("收稿日期" in b.text or "Foundation" in b.text for b in blocks if b.kind == "body")


def test_corpus_chinese_journals_publishing_matter_is_footnotes(shared_corpus):
    """The four 电信科学 / 计算机研究与发展 / 北京交通大学学报 papers print their dates, funding and
    corresponding author unmarked at the first page's foot; PLOS's "Received:" sidebar and a BMC back
    page's "Received: ..." line over the references stay as they were."""
    folder, _ = shared_corpus
    for name in ("paper-07.pdf", "paper-26.pdf", "paper-28.pdf", "paper-30.pdf"):
        with pymupdf.open(folder / name) as doc:
            blocks, _, _ = extract_blocks(doc)
        assert any(b.kind == "footnote" and b.text.startswith("收稿日期") for b in blocks), name
        assert not any(b.kind == "body" and re.search("收稿日期|基金项目", b.text) for b in blocks), name
    with pymupdf.open(folder / "paper-13.pdf") as doc:
        blocks, refs, _ = extract_blocks(doc)
    assert len(refs) >= 50 and not any(b.kind == "footnote" and "Received" in b.text for b in blocks)


def test_a_three_line_title_of_even_lines_stays_whole(pdf):
    """PLOS sets its title in 18 pt over 10 pt text, three lines of about the same width: the
    middle line neither ends the title nor is short, and at under twice the text's size the title
    kept only its first line; the other two opened the byline's paragraph ("analysis of wheat ...
    following post-anthesis heat stress Kayla Thomason1, ...")."""
    pdf.new_page()
    pdf.line(60, 90, "Comparative physiological and metabolomics", 18)
    pdf.line(60, 112, "analysis of wheat (Triticum aestivum L.)", 18)
    pdf.line(60, 134, "following post-anthesis heat stress", 18)
    pdf.line(60, 160, "Kayla Thomason1, Md Ali Babar1, John E. Erickson1, Michael Mulvaney2", 9, "hebo")
    pdf.column(60, 200, [f"Body line {i} of the abstract runs on and on across the column." for i in range(1, 9)],
               size=10, leading=13)
    blocks, _, _ = blocks_of(pdf.save())
    assert ("Comparative physiological and metabolomics analysis of wheat (Triticum aestivum L.) following "
            "post-anthesis heat stress") in [b.text for b in blocks if b.kind == "heading"]
    assert not any(b.text.startswith("analysis of wheat") for b in blocks)


def test_corpus_plos_title_stays_whole(shared_corpus):
    from ingest.parse import parse_pdf

    folder, _ = shared_corpus
    blocks = parse_pdf(folder / "paper-04.pdf").blocks
    assert any(b.kind == "heading" and b.text.endswith("analysis of wheat (Triticum aestivum L.) following post-anthesis "
                                                       "heat stress") for b in blocks)
    assert not any(b.kind == "body" and b.text.startswith("analysis of wheat") for b in blocks)


def test_a_bold_byline_is_no_heading(pdf):
    """A byline set bold ("Chris Beecher3,4, Greg MacDonald1") had been a heading, so the
    affiliations and the abstract below were filed under the authors' names instead of the title."""
    pdf.new_page()
    pdf.line(60, 90, "Comparative physiological and metabolomics analysis", 18)
    pdf.line(60, 120, "Andrew E. Webb1, Thomas A. Walsh1 and Mary J. O’Connell1,2", 10, "hebo")
    pdf.line(60, 140, "1 Bioinformatics Group, School of Biotechnology, Dublin City University, Dublin, Ireland", 8)
    pdf.line(60, 170, "Sho1, Pbs2 and Hog1 Interactions", 11, "hebo")  # gene names: a heading
    pdf.column(60, 190, [f"Body line {i} of the section runs on and on across the column." for i in range(1, 9)],
               size=10, leading=13)
    blocks, _, _ = blocks_of(pdf.save())
    headings = [b.text for b in blocks if b.kind == "heading"]
    assert not any("Webb1" in h for h in headings) and "Sho1, Pbs2 and Hog1 Interactions" in headings
    byline = next(b for b in blocks if "Webb1" in b.text)
    assert byline.kind == "body" and byline.section.startswith("Comparative physiological")


def test_a_byline_marking_only_its_corresponding_author_is_no_heading(pdf):
    """NAR's byline marks only its last author ("..., Aivar Liiv and Jaanus Remme *"), so no name
    carries affiliation marks; a list of three or more names that ends in a sign is a byline too.
    A heading listing single words keeps its heading."""
    pdf.new_page()
    pdf.line(60, 90, "Ribosomal RNA modification enzymes stimulate assembly", 18)
    pdf.line(60, 120, "Kaspar Reier, Aivar Liiv, Mari Tamm and Jaanus Remme *", 11, "hebo")
    pdf.line(60, 140, "Institute of Molecular and Cell Biology, University of Tartu, Estonia", 8)
    pdf.line(60, 170, "Bacteria, Archaea and Eukarya", 11, "hebo")
    pdf.line(60, 330, ",1 Dusan Kwiatkowski,5 Thorin Peiser,5", 11, "hebo")  # a wrapped byline's next line
    pdf.column(60, 350, [f"Abstract line {i} runs on and on across the column." for i in range(1, 4)], size=10, leading=13)
    pdf.column(60, 190, [f"Body line {i} of the section runs on and on across the column." for i in range(1, 9)],
               size=10, leading=13)
    blocks, _, _ = blocks_of(pdf.save())
    headings = [b.text for b in blocks if b.kind == "heading"]
    assert not any("Remme" in h or "Kwiatkowski" in h for h in headings) and "Bacteria, Archaea and Eukarya" in headings
    byline = next(b for b in blocks if "Remme" in b.text)
    assert byline.kind == "body" and byline.section.startswith("Ribosomal RNA")


def test_a_short_line_in_the_texts_type_between_paragraphs_is_a_heading(pdf):
    """A manuscript typed in one face marks its subheadings only by a line of their own, a blank
    line above and the paragraph set close below (bioRxiv's "Growth conditions", "Cloning"; BMC's
    "Ethical considerations" a little smaller, in another face); they had opened their paragraphs ("Growth conditions Escherichia coli cells were grown ..."). Not a
    figure's "Median area = 3.6" nor a table's first cell beside the others."""
    body = [f"Sentence {i} of the paragraph runs across the whole width of the column here" for i in range(1, 4)]
    pdf.new_page()
    pdf.line(60, 80, "Material and methods", 16)
    y = pdf.column(60, 110, [*body, "and it ends here."], size=10, leading=13)
    pdf.line(60, y + 13, "Growth conditions", 10)
    y = pdf.column(60, y + 26, ["Escherichia coli cells were grown in rich medium at 37 degrees for liquid cultures,",
                                *body, "and the paragraph ends."], size=10, leading=13)
    pdf.line(60, y + 13, "Ethical considerations", 9.2)  # BMC: a little smaller (in another face)
    y = pdf.column(60, y + 25, ["The study proposal was reviewed and approved by the research committee of the",
                                *body, "institute."], size=10, leading=13)
    pdf.line(60, y + 13, "Median area = 3.6", 10)
    y = pdf.column(60, y + 26, [f"Another line {i} of text runs across the whole width of the column here" for i in range(1, 4)]
                   + ["to its end."], size=10, leading=13)
    pdf.line(60, y + 13, "Filter", 10)
    pdf.line(200, y + 13, "Number of papers", 10)
    pdf.column(60, y + 26, ["No title 20k and no authors 0.3M and fewer than 100 characters of text 80.0M in all",
                            *body], size=10, leading=13)
    blocks, _, _ = blocks_of(pdf.save())
    headings = [b.text for b in blocks if b.kind == "heading"]
    assert "Growth conditions" in headings
    grown = next(b for b in blocks if "Escherichia" in b.text)
    assert grown.section == "Growth conditions" and grown.text.startswith("Escherichia")
    assert "Ethical considerations" in headings
    assert not any("Median" in h or h == "Filter" for h in headings)


def test_a_subheading_in_a_face_of_its_own_needs_no_gap(pdf):
    """BMC sets its subheadings a little smaller in a face of their own: "Setting" right under
    "Methods" with no gap, "Study approach, sampling and data analysis" three quarters as wide as
    its column; both had opened their paragraphs. A short line in the paragraph's own face right
    under a heading is still the paragraph's, and so is a first page's byline in its own face under
    the title."""
    body = [f"Sentence {i} of the paragraph runs across the whole width of the column here" for i in range(1, 4)]
    pdf.new_page()
    pdf.line(60, 60, "A Study of Things in Yeast", 16, font="hebo")
    pdf.line(60, 80, "Anna Berg and Carl Dahl", 10, font="tiro")
    pdf.line(60, 93, "Department of Biology, Tufts University, Medford, MA 02155, USA", 10)
    pdf.column(60, 120, [*body, "and the first page ends."], size=10, leading=13)
    pdf.new_page()
    pdf.line(60, 80, "Methods", 10.3, font="hebo")
    pdf.line(60, 93, "Setting", 9.2, font="tiro")
    y = pdf.column(60, 106, ["The Medical Department of the hospital serves a population of around five million,",
                             *body, "and it ends here."], size=10, leading=13)
    pdf.line(60, y + 13, "Study approach, sampling and data analysis of the whole survey", 9.2, font="tiro")
    y = pdf.column(60, y + 26, ["A mixed method approach incorporated quantitative and qualitative methods in all,",
                                *body, "and the paragraph ends."], size=10, leading=13)
    pdf.line(60, y + 13, "Results", 10.3, font="hebo")
    pdf.line(60, y + 26, "Short opening words", 10)
    pdf.column(60, y + 39, [*body, "and the last paragraph ends."], size=10, leading=13)
    blocks, _, _ = blocks_of(pdf.save())
    headings = [b.text for b in blocks if b.kind == "heading"]
    assert "Setting" in headings and "Study approach, sampling and data analysis of the whole survey" in headings
    setting = next(b for b in blocks if "Medical Department" in b.text)
    assert setting.section == "Setting" and setting.text.startswith("The Medical")
    assert "Short opening words" not in headings
    assert next(b for b in blocks if "Short opening" in b.text).section == "Results"
    assert "Anna Berg and Carl Dahl" not in headings


def test_corpus_subheadings_in_the_texts_type(shared_corpus):
    from ingest.parse import parse_pdf

    folder, _ = shared_corpus
    blocks = parse_pdf(folder / "paper-05.pdf").blocks
    headings = {b.text for b in blocks if b.kind == "heading"}
    assert {"Growth conditions", "Cloning", "Strain construction", "DHFR-PCA growth curves"} <= headings
    assert not any(b.kind == "body" and b.text.startswith("Growth conditions") for b in blocks)
    bmc = {b.text for b in parse_pdf(folder / "paper-09.pdf").blocks if b.kind == "heading"}
    assert {"Ethical considerations", "Structured patient interviews"} <= bmc
    # in their own face right under a heading, or three quarters as wide as the column (parser 63)
    assert {"Setting", "Study approach, sampling and data analysis", "Staffing"} <= bmc
    acl = {b.text for b in parse_pdf(folder / "paper-16.pdf").blocks if b.kind == "heading"}
    assert {"Selecting PDFs", "Postprocessing GROBID output"} <= acl


def test_a_bold_run_in_head_without_a_stop_opens_its_paragraph_as_a_heading(pdf):
    """ACL sets a paragraph's head in bold with no stop after it ("Selecting PDFs We remove PDFs
    ..."), and MuPDF splits the bold words from the rest of the line: the head had opened the
    paragraph's text. One bold word before a capital ("Sho1 Binding ...") stays the text's."""
    rest = [f"Line {i} of the paragraph goes on across the column without a break in it." for i in range(1, 4)]
    pdf.new_page()  # a first page's bold labels run into their text without a stop too: not there
    run_in(pdf, 80, "How to cite this article", " Webb et al. (2017), a software package for analyses.")
    pdf.column(60, 93, rest, size=10, leading=13)
    pdf.new_page()
    pdf.line(60, 80, "2.1 Processing PDFs", 12, "hebo")
    y = pdf.column(60, 100, [*rest, "It ends here."], size=10, leading=13)
    run_in(pdf, y, "Selecting PDFs", " We remove PDFs which are less likely to be academic papers and")
    y = pdf.column(60, y + 13, [*rest, "It ends here."], size=10, leading=13)
    run_in(pdf, y, "Sho1", " Binding was measured in every strain of the screen, and the values")
    pdf.column(60, y + 13, rest, size=10, leading=13)
    blocks, _, _ = blocks_of(pdf.save())
    headings = [b.text for b in blocks if b.kind == "heading"]
    assert "Selecting PDFs" in headings and "Sho1" not in headings and "How to cite this article" not in headings
    removed = next(b for b in blocks if "We remove PDFs" in b.text)
    assert removed.section == "Selecting PDFs" and removed.text.startswith("We remove PDFs")


def test_a_section_name_does_not_take_the_subheading_under_it_in_another_face(pdf):
    """PLOS sets "Materials and methods" in Helvetica bold over its first subheading in Minion bold,
    both 12 pt, a line apart: they were read as one heading. A known section name is whole."""
    pdf.new_page()
    pdf.line(60, 80, "Materials and methods", 12, "hebo")
    pdf.line(60, 98, "Genetic materials, growth and experimental conditions", 12, "tibo")
    pdf.column(60, 118, [f"Body line {i} of the section runs on and on across the column." for i in range(1, 9)],
               size=10, leading=13)
    blocks, _, _ = blocks_of(pdf.save())
    headings = [b.text for b in blocks if b.kind == "heading"]
    assert headings == ["Materials and methods", "Genetic materials, growth and experimental conditions"]


def test_corpus_section_names_stand_apart_from_subheadings(shared_corpus):
    from ingest.parse import parse_pdf

    folder, _ = shared_corpus
    headings = [b.text for b in parse_pdf(folder / "paper-04.pdf").blocks if b.kind == "heading"]
    assert "Materials and methods" in headings and "Results" in headings and "Physiological parameters" in headings


def test_corpus_bylines_are_no_headings(shared_corpus):
    from ingest.parse import parse_pdf

    folder, _ = shared_corpus
    for name, author in (("paper-04.pdf", "Greg MacDonald1"), ("paper-12.pdf", "Thomas A. Walsh1"),
                         ("paper-28.pdf", "侯心迪1"), ("paper-02.pdf", "Jaanus Remme"),
                         ("paper-19.pdf", "Dusan Kwiatkowski"), ("paper-03.pdf", "Youlin Zhu1")):
        blocks = parse_pdf(folder / name).blocks
        assert not any(b.kind == "heading" and author in b.text for b in blocks), name
        assert any(b.kind == "body" and author in b.text for b in blocks), name
