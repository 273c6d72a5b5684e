"""Shared page reading (ingest.pages) and the speed-ups that must not change output: the TextPage
read once gives what each module read for itself before, path clustering's grid labelling, and
the tables' once-computed rawdict."""
from __future__ import annotations

import random

import pymupdf

from ingest.captions import find_captions, read_text
from ingest.layout import extract_blocks, read_lines
from ingest.pages import TEXT_FLAGS, PageReads, read_graphics, read_pages
from ingest.paths import label_rects
from ingest.tables import _OnceRawdict, find_page_tables, table_markdown
from tests.ingest.test_tables import _ruled_table

BODY = [f"Line {i} of a paragraph about reading the text layer of a page only once." for i in range(20)]


def _doc() -> pymupdf.Document:
    doc = pymupdf.open()
    for n in range(3):
        page = doc.new_page(width=595, height=842)
        page.insert_text((60, 60), f"Running header of the journal {n}", fontsize=8)
        if n == 0:
            page.insert_text((60, 100), "Reading Pages Once", fontsize=18, fontname="hebo")
            page.insert_text((60, 125), "doi: 10.4242/pages.2024.1", fontsize=9)
        for i, text in enumerate(BODY):
            page.insert_text((60, 160 + 14 * i), text, fontsize=10)
        page.insert_text((60, 480), f"Figure {n + 1}. A caption under a figure that is not drawn.", fontsize=9)
    return doc


def test_shared_textpage_gives_what_each_module_read_itself():
    doc = _doc()
    reads = read_pages(doc)
    for page in doc:
        own = read_lines(page, page.number + 1)
        assert [(ln.text, ln.x0, ln.y0, ln.size, ln.bold) for ln in reads.lines[page.number]] == \
            [(ln.text, ln.x0, ln.y0, ln.size, ln.bold) for ln in own]
        assert reads.plain_text(page.number) == page.get_text("text", flags=TEXT_FLAGS)
        assert reads.page_dict(page.number) == page.get_text("dict", flags=TEXT_FLAGS)
    alone = read_text(doc)
    assert [[(ln.text, ln.bbox, ln.size) for ln in pt.lines] for pt in reads.texts] == \
        [[(ln.text, ln.bbox, ln.size) for ln in pt.lines] for pt in alone]
    assert [[c.label for c in caps] for caps in find_captions(reads.texts)] == [["Figure 1"], ["Figure 2"], ["Figure 3"]]
    assert extract_blocks(doc, None, reads.lines) == extract_blocks(doc)


def test_lazy_reads_and_bboxlog_cache():
    doc = _doc()
    reads = PageReads(doc)  # nothing read yet: pages are read on demand
    assert reads.page_count == 3 and "Reading Pages Once" in reads.plain_text(0)
    page = doc[1]
    page.draw_rect(pymupdf.Rect(100, 600, 300, 700), color=(0, 0, 0))
    first = reads.bboxlog(page, keep=False)
    assert first == [(kind, r) for kind, r in page.get_bboxlog() if "text" not in kind]
    assert page.number not in reads._bboxlogs
    assert reads.bboxlog(page) is reads.bboxlog(page)  # kept: read once


def test_graphics_log_is_the_bboxlog_without_text_also_on_rotated_pages():
    doc = _doc()
    page = doc[0]
    page.draw_rect(pymupdf.Rect(100, 600, 300, 700), color=(0, 0, 0), fill=(0.5, 0.5, 0.5))
    page.draw_line((100, 720), (400, 720), width=0.5)
    photo = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 8, 8), 0)
    page.insert_image(pymupdf.Rect(320, 600, 420, 680), pixmap=photo)
    for rotation in (0, 90):
        page.set_rotation(rotation)
        log = read_graphics(page)
        assert log == [(kind, r) for kind, r in page.get_bboxlog() if "text" not in kind]
        assert {kind for kind, _ in log} == {"fill-path", "stroke-path", "fill-image"}
        assert page.rotation == rotation


def _components(rects: list[list[float]], tol: float = 3.0, grid: float = 2.0) -> list[int]:
    """Brute force: rects whose dilated grid cells overlap or share a side belong together."""
    def cells(r):
        pad = tol / 2
        return int((r[0] - pad) / grid), int((r[1] - pad) / grid), int((r[2] + pad) / grid) + 1, int((r[3] + pad) / grid) + 1

    parent = list(range(len(rects)))

    def find(a):
        while parent[a] != a:
            a = parent[a]
        return a

    boxes = [cells(r) for r in rects]
    for i, a in enumerate(boxes):
        for j in range(i):
            b = boxes[j]
            side_by_side = a[0] <= b[2] and b[0] <= a[2] and a[1] < b[3] and b[1] < a[3]
            stacked = a[1] <= b[3] and b[1] <= a[3] and a[0] < b[2] and b[0] < a[2]
            if side_by_side or stacked:
                parent[find(i)] = find(j)
    return [find(i) for i in range(len(rects))]


def _partition(labels: list[int]) -> list[int]:
    seen: dict[int, int] = {}
    return [seen.setdefault(lab, len(seen)) for lab in labels]


def test_label_rects_matches_brute_force_components():
    rng = random.Random(7)
    for _ in range(30):
        rects = []
        for _ in range(rng.randint(1, 60)):
            x, y = rng.uniform(20, 500), rng.uniform(20, 700)
            rects.append([x, y, x + rng.uniform(0, 40), y + rng.uniform(0, 40)])
        assert _partition(label_rects(rects, 595, 842)) == _partition(_components(rects))


def test_once_rawdict_keeps_markdown_and_reads_once():
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    page.insert_text((100, 170), "Table 1. Yield and height of three genotypes.", fontsize=9)
    _ruled_table(page, 100, 180)
    (table,) = find_page_tables(page)
    assert isinstance(table.textpage, _OnceRawdict)
    shared = table.textpage
    calls = []
    inner = shared._textpage.extractRAWDICT
    shared._textpage = type("Counting", (), {"extractRAWDICT": lambda self: calls.append(1) or inner()})()
    text = table_markdown(table)
    assert len(calls) == 1 and "CB 205" in text and "| 3.8 |" in text.replace("|3.8|", "| 3.8 |")
    (fresh,) = [t for t in page.find_tables(use_layout=False).tables]  # PyMuPDF's own path, uncached
    assert table_markdown(fresh) == text
