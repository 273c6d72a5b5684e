"""Metadata: DOI cleaning and choice, title, authors, abstract/keywords, language; and the real corpus."""
from __future__ import annotations

import re
import unicodedata

import pymupdf
import pytest

from eval.score_parse import title_ok
from ingest.layout import extract_blocks
from ingest.metadata import clean_doi, extract_metadata, find_dois
from ingest.parse import parse_pdf


def metadata_of(path):
    with pymupdf.open(path) as doc:
        blocks, refs, _ = extract_blocks(doc)
        return extract_metadata(doc, blocks, refs)


@pytest.mark.parametrize("raw, want", [
    ("10.1093/NAR/gkae222.", "10.1093/nar/gkae222"),
    ("10.1093/g3journal/jkad293;", "10.1093/g3journal/jkad293"),
    ("10.1016/0092-8674(94)90182-1)", "10.1016/0092-8674(94)90182-1"),
    ("10.11959/j.issn.1000−436x.2022084", "10.11959/j.issn.1000-436x.2022084"),
    ("10.1073/pnas.\u200b2322520121", "10.1073/pnas.2322520121"),
    ("not a doi", ""),
])
def test_clean_doi(raw, want):
    assert clean_doi(raw) == want


def test_find_dois_handles_prefixes_fullwidth_wraps_and_spacing():
    text = ("doi: １０．３９６９/j．issn．1673－629X．2023．10．010\n"
            "https://doi.org/10.1186/1472-\n6963-14-1 and DOI:10. 13190 / j. jbupt. 2020鄄203\n")
    found = {d for d, _ in find_dois(text)}
    assert {"10.3969/j.issn.1673-629x.2023.10.010", "10.1186/1472-6963-14-1", "10.13190/j.jbupt.2020-203"} <= found


def test_own_doi_preferred_over_cited_ones(pdf):
    pdf.new_page()
    pdf.line(60, 40, "Journal of Tests (2024) 7:1-9  https://doi.org/10.5555/JOT.2024.001", 8)
    pdf.line(60, 100, "Measuring Things Carefully in Small Test Documents", 18, "hebo")
    pdf.line(60, 130, "Ada Lovelace, Alan Turing and Grace Hopper", 11)
    pdf.line(60, 170, "Abstract", 11, "hebo")
    pdf.column(60, 190, ["We measure things carefully, as shown by Smith (doi:10.1000/other.1).",
                         "The measurements agree with earlier work."])
    pdf.line(60, 250, "Keywords: measurement; testing; small documents", 10)
    pdf.line(60, 290, "1 Introduction", 12, "hebo")
    pdf.column(60, 310, ["Body text of the introduction, long enough to be body text here."] * 4)
    pdf.line(60, 400, "References", 12, "hebo")
    pdf.column(60, 420, [f"[{i}] A. Cited. Work {i}. J. Cited 2019. doi:10.1000/other.{i}" for i in range(1, 6)])
    pdf.doc.set_metadata({"title": "Microsoft Word - draft_v3.docx", "author": ""})
    meta = metadata_of(pdf.save())
    assert meta.doi == "10.5555/jot.2024.001"
    assert meta.title == "Measuring Things Carefully in Small Test Documents"
    assert meta.authors == ("Ada Lovelace", "Alan Turing", "Grace Hopper")
    assert meta.abstract.startswith("We measure things carefully")
    assert meta.keywords == ("measurement", "testing", "small documents")
    assert meta.year == 2024 and meta.lang == "en"


def test_a_kerning_split_title_is_repaired_against_the_papers_own_words(pdf):
    pdf.new_page()
    pdf.line(60, 100, "Mutation r at e het erog eneity due t o local h ypometh ylation", 16, "hebo")
    pdf.line(60, 130, "Ada Lovelace and Alan Turing", 11)
    pdf.column(60, 170, ["The mutation rate heterogeneity we measured follows hypomethylation of active genes.",
                         "Local hypomethylation explains the heterogeneity of the rate across exons.",
                         "Body text of the paper, long enough to be body text on this page."] * 2)
    meta = metadata_of(pdf.save())
    assert meta.title == "Mutation rate heterogeneity due to local hypomethylation"
    assert meta.authors == ("Ada Lovelace", "Alan Turing")


def test_real_metadata_title_is_used(pdf):
    pdf.new_page()
    pdf.line(60, 60, "BANNER OF A JOURNAL", 20, "hebo")
    pdf.line(60, 100, "Proteins Fold Quickly Under Pressure", 14, "hebo")
    pdf.column(60, 140, ["Some body text that is long enough to be body text on this page."] * 5)
    pdf.doc.set_metadata({"title": "Proteins Fold Quickly Under Pressure"})
    assert metadata_of(pdf.save()).title == "Proteins Fold Quickly Under Pressure"


def test_chinese_paper_titles_abstracts_keywords(pdf):
    pdf.new_page()
    pdf.line(60, 80, "基于可编程平台的标识网络移动性管理机制", 18, "china-s")
    pdf.line(60, 110, "张三，李四", 12, "china-s")
    pdf.column(60, 140, ["摘要: 标识网络的提出解决了传统网络中地址二义性带来的移动性问题。",
                         "关键词: 标识网络; 可编程平台; 移动管理"], 9, 14, "china-s")
    pdf.line(60, 200, "Mobility Management of Identifier Networks on Programmable Platforms", 13)
    pdf.column(60, 230, ["Abstract: Identifier networks solve the mobility problem of IP addresses.",
                         "Key words: identifier network; programmable data plane"], 9)
    pdf.line(60, 290, "1 引言", 12, "china-s")
    pdf.column(60, 310, ["在传统互联网结构体系创造之初，终端设备大多采用固定有线为主的连通方式，网络结构固定。"] * 6,
               10, 14, "china-s")
    meta = metadata_of(pdf.save())
    assert meta.lang == "zh"
    assert meta.title == "基于可编程平台的标识网络移动性管理机制"
    assert meta.title_alt == "Mobility Management of Identifier Networks on Programmable Platforms"
    assert meta.abstract.startswith("标识网络的提出")
    assert meta.abstract_alt.startswith("Identifier networks solve")
    assert meta.keywords == ("标识网络", "可编程平台", "移动管理")
    assert meta.keywords_alt == ("identifier network", "programmable data plane")
    assert meta.authors == ("张三", "李四")


def pdf_contains_doi(path, doi: str) -> bool:
    """Whether a DOI is written anywhere in the file: metadata, XMP, any page's text or links."""
    want = re.sub(r"\W", "", doi.lower())
    with pymupdf.open(path) as doc:
        chunks = [str(doc.metadata), doc.get_xml_metadata()]
        for page in doc:
            chunks.append(page.get_text())
            chunks += [link.get("uri", "") for link in page.get_links()]
    return want in re.sub(r"\W", "", unicodedata.normalize("NFKC", " ".join(chunks)).lower())


@pytest.mark.slow
@pytest.mark.corpus
def test_corpus_doi_and_title_accuracy(shared_corpus):
    folder, rows = shared_corpus
    doi_right = title_right = 0
    misses = []
    for row in rows:
        meta = parse_pdf(folder / row["file"], figures=False).metadata
        if meta.doi == row["doi"].lower():
            doi_right += 1
        else:
            misses.append(row)
        title_right += title_ok(meta.title, row["title"])
    # Every DOI that is written in the file must be found; a DOI printed nowhere in the file (ACL
    # Anthology PDFs carry none) cannot be found offline and is checked to really be absent.
    for row in misses:
        assert not pdf_contains_doi(folder / row["file"], row["doi"]), f"{row['file']}: DOI in file but missed"
    assert doi_right >= len(rows) - 2, [m["file"] for m in misses]
    assert title_right >= 30


def test_keyword_lists_stop_at_body_text_and_front_matter():
    from ingest.metadata import pick_keywords

    # paper-28 of the shared corpus: the English list's last line runs into the next column's Chinese
    # body text, and the paragraph after it is the journal's 收稿日期/基金项目 line.
    paragraphs = ["information-centric mobile Ad hoc network; data access control; threshold secret sharing; "
                  "two-variable one-way function摇摇为了保持与传统的传输控制协议兼容",
                  "收稿日期: 2020-10-08基金项目: 国家重点研发计划项目(2019YFB1802503); 国家自然科学基金项目"]
    keywords, alt = pick_keywords(paragraphs, "zh")
    assert keywords == ()
    assert alt == ("information-centric mobile Ad hoc network", "data access control", "threshold secret sharing",
                   "two-variable one-way function")
    assert pick_keywords(["算力网络；算力资源；算力度量", "中图法分类号 TP391"], "zh") == (("算力网络", "算力资源", "算力度量"), ())
    assert pick_keywords(["RNA editing; C. elegans"], "en") == (("RNA editing", "C. elegans"), ())
    # EMBO Reports prints its subject categories and a link right after the keywords
    assert pick_keywords(["Long Noncoding RNA; Histone Deacetylation; Drought Response Subject Categories "
                          "Chromatin, Transcription & Genomics; Plant Biology https://doi.org/x"], "en")[0] == (
        "Long Noncoding RNA", "Histone Deacetylation", "Drought Response")


@pytest.mark.parametrize("line, want", [
    # superscript marks reach split_authors as "|" (see test_superscript_marks_separate_names)
    ("Yamin Gong | Zhifeng Wang | Edited by Stephen Bell | Cambridge | MA", ("Yamin Gong", "Zhifeng Wang")),
    ("柴若楠 郜 帅 兰江雨 刘宁春", ("柴若楠", "郜帅", "兰江雨", "刘宁春")),  # a letter-spaced 2-character name
    ("Mitch McVey | Department of Biology | Tufts University | Medford | MA", ("Mitch McVey",)),
    ("Ann Bee, Carl Dee | New York | Eve Fay | New York", ("Ann Bee", "Carl Dee", "Eve Fay")),
    ("Ludwig van Beethoven · Maria de la Cruz", ("Ludwig van Beethoven", "Maria de la Cruz")),
    ("View the article online for updates and enhancements", ()),
])
def test_byline_names(line, want):
    from ingest.byline import split_authors

    assert split_authors(line) == want


def test_superscript_marks_separate_names(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_text((72, 100), "Replication fork protection in human cells", fontsize=18)
    x = 72.0
    for name, mark in (("Yamin Gong", "a"), ("Zhifeng Wang", "b"), ("Wen Zong", "c")):
        page.insert_text((x, 140), name, fontsize=10)
        x += pymupdf.get_text_length(name, fontsize=10)
        page.insert_text((x, 136), mark, fontsize=6)  # raised and smaller: an affiliation mark
        x += pymupdf.get_text_length(mark, fontsize=6) + 3
    page.insert_text((72, 200), "Abstract. " + "Cells protect stalled forks with several factors. " * 8, fontsize=10)
    path = tmp_path / "byline.pdf"
    doc.save(path)
    assert metadata_of(path).authors == ("Yamin Gong", "Zhifeng Wang", "Wen Zong")


def test_bylines_read_row_by_row_with_mark_lines_between_names(tmp_path):
    # Nature-style: each name's marks are raised and in smaller type, and MuPDF puts a mark into the
    # line of the name after it ("³, Eugene V. Koonin"), whose top is then above its row's others.
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_text((72, 100), "Ancestral elongation factors of Asgard archaea", fontsize=18)
    x = 72.0
    for name in ("Yang Liu", ", Yuri I. Wolf", ", Eugene V. Koonin", " & Meng Li"):
        page.insert_text((x, 140), name, fontsize=10)
        x += pymupdf.get_text_length(name, fontsize=10)
        page.insert_text((x, 135), "1,2", fontsize=6)
        x += pymupdf.get_text_length("1,2", fontsize=6)
    page.insert_text((72, 200), "Abstract. " + "Elongation factors bind GTP at high temperature. " * 8, fontsize=10)
    path = tmp_path / "rows.pdf"
    doc.save(path)
    assert metadata_of(path).authors == ("Yang Liu", "Yuri I. Wolf", "Eugene V. Koonin", "Meng Li")


def test_metadata_names_turn_to_the_printed_order():
    from ingest.byline import as_printed, match_key as _norm

    printed = _norm("Rya Er o1, Margus Leppik1 and Jaanus Remme1 Institute of Molecular and Cell Biology")
    assert as_printed(("Ero Rya", "Leppik Margus", "Remme Jaanus"), printed) == ("Rya Ero", "Margus Leppik", "Jaanus Remme")
    # a page that prints any name as given keeps them all (a cover page's "Allen, Greg M" is not a reason)
    printed = _norm("Authors Allen, Greg M Frankel, Nicholas W Synthetic circuits Greg M. Allen1, Nicholas W. Frankel")
    assert as_printed(("Greg M. Allen", "Nicholas W. Frankel"), printed) == ("Greg M. Allen", "Nicholas W. Frankel")
    assert as_printed(("Ann Bee",), _norm("no names here")) == ("Ann Bee",)


@pytest.mark.corpus
def test_corpus_bylines(shared_corpus):
    folder, _ = shared_corpus
    pnas = parse_pdf(folder / "paper-06.pdf", figures=False).metadata.authors
    assert pnas[:3] == ("Yamin Gong", "Zhifeng Wang", "Wen Zong") and not any("Edited" in a for a in pnas)
    cover = parse_pdf(folder / "paper-08.pdf", figures=False).metadata  # IOP: byline on page 2
    assert cover.authors[0] == "V V Kazina" and cover.author_affiliations
    # names that ran together when a line began with the previous name's raised marks
    nature = parse_pdf(folder / "paper-32.pdf", figures=False).metadata.authors
    assert nature[-3:] == ("Yuri I. Wolf", "Eugene V. Koonin", "Meng Li")
    assert parse_pdf(folder / "paper-31.pdf", figures=False).metadata.authors[:2] == ("Björn D. M. Bean", "Colleen J. Mulvihill")
    # NAR's metadata lists "Family Given"; the page prints "Rya Ero"
    assert parse_pdf(folder / "paper-02.pdf", figures=False).metadata.authors[:2] == ("Rya Ero", "Margus Leppik")
    assert parse_pdf(folder / "paper-21.pdf", figures=False).metadata.authors[0] == "Greg M. Allen"


def test_publishing_matter_read_into_the_abstract_is_left_out(shared_corpus):
    """MDPI's sidebar is read where it starts, inside the abstract ("Citation: Shi, C.; ...",
    "Academic Editor: ...", "Received: ...", "Copyright: © 2024 ..."); a Chinese journal's 收稿日期 /
    基金项目 lines sat in the Chinese abstract's section. Blocks that open with such a label are left out."""
    from ingest.headings import PUBLISHING_MATTER
    from ingest.parse import parse_pdf

    assert PUBLISHING_MATTER.match("Academic Editor: Sathiyaraj Srinivasan") and not PUBLISHING_MATTER.match(
        "Deinococcus radiodurans is an extremophilic microorganism")
    folder, _ = shared_corpus
    mdpi = parse_pdf(folder / "paper-11.pdf").metadata.abstract
    assert mdpi.endswith("defending foreign DNA in D. radiodurans.") and "Citation:" not in mdpi and "Licensee" not in mdpi
    # and the abstract's last line is read before the sidebar that starts beside it
    assert any(b.text.endswith("key roles in maintaining cell viability and defending foreign DNA in D. radiodurans.")
               for b in parse_pdf(folder / "paper-11.pdf").blocks if b.section == "Abstract")
    zh = parse_pdf(folder / "paper-30.pdf").metadata.abstract
    assert zh.endswith("为国产化大规模智算集群建设提供理论支撑与实践参考。") and "Program" not in zh


def test_an_author_manuscripts_abstract_runs_on_past_its_footnotes(shared_corpus):
    from ingest.parse import parse_pdf

    folder, _ = shared_corpus
    abstract = parse_pdf(folder / "paper-21.pdf").metadata.abstract  # UCSF / PMC author manuscript
    assert abstract.endswith("in a manner that evades key points of tumor suppression.")
    assert "licensed" not in abstract and "Corresponding author" not in abstract
