"""Score figure extraction and caption pairing over the shared corpus, and time it.

For every PDF in ../shared/corpus/pdfs (gold in manifest.json: `has_figures`,
`raster_images_ge150px`, `figure_caption_lines`) this prints: figures found (raster/vector), how
many carry a caption, the distinct figure captions present in the text ("Figure N"/"Fig. N"/"图N"
at the start of a line, found here with a regex of its own so the score does not grade the
extractor with its own rule) and how many of those were paired to an extracted figure, tables
found, and seconds spent (wall and CPU; CPU is the fair figure on a shared machine). Then totals and the acceptance checks:

  * at least one figure on every paper with has_figures=true;
  * no figure on a paper with has_figures=false;
  * at least 80% of the figure captions in the text paired to an extracted figure.

Usage: python eval/score_figures.py [--corpus DIR] [--dump DIR] [--tables] [--only paper-07]
(--dump writes every PNG for eyeballing; --tables also times ingest.tables.)
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import pymupdf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ingest.figures import extract_figures  # noqa: E402

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
_SPACES = str.maketrans({c: " " for c in "\xa0\u2002\u2003\u2009\u200a\u202f\u3000"})
# a line that opens a figure caption: the label, then punctuation, a capital, "(" or nothing
_FIG_LINE = re.compile(
    r"^(?:figure|fig\.?|图)\s*(S?\d{1,3})(?:$|\s*[.:|(]|\s+[A-Z(](?![),])|\s*[\u3400-\u9fff](?<![所为中是]))", re.I
)
_LABEL_NUM = re.compile(r"(S?\d+)$")


def caption_numbers(doc: pymupdf.Document) -> set[str]:
    """Distinct figure numbers whose caption starts a text line somewhere in `doc`."""
    found = set()
    for page in doc:
        for line in page.get_text("text").splitlines():
            m = _FIG_LINE.match(line.translate(_SPACES).strip())
            if m:
                found.add(m.group(1).upper())
    return found


def score_paper(path: Path, dump: Path | None, with_tables: bool) -> dict:
    doc = pymupdf.open(path)
    t0, c0 = time.perf_counter(), time.process_time()
    figures = extract_figures(doc, [])
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    tables, t_tables = [], 0.0
    if with_tables:
        from ingest.tables import extract_tables

        t1 = time.process_time()
        tables = extract_tables(doc)
        t_tables = time.process_time() - t1
    in_text = caption_numbers(doc)
    paired = {_LABEL_NUM.search(f.label).group(1) for f in figures if f.label and not f.label.startswith(("Table", "表"))}
    if dump is not None:
        for i, f in enumerate(figures):
            name = f"{path.stem}_p{f.page:02d}_{i:02d}_{(f.label or 'nolabel').replace(' ', '')}.png"
            (dump / name).write_bytes(f.png)
    return {
        "figures": len(figures),
        "raster": sum(f.kind == "raster" for f in figures),
        "captioned": sum(bool(f.label) for f in figures),
        "in_text": len(in_text),
        "paired": len(in_text & paired),
        "missing": sorted(in_text - paired, key=lambda s: (len(s), s)),
        "tables": len(tables),
        "seconds": seconds,
        "cpu": cpu,
        "table_seconds": t_tables,
        "pages": doc.page_count,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--dump", type=Path, default=None, help="write every figure PNG here")
    ap.add_argument("--tables", action="store_true", help="also run and time ingest.tables")
    ap.add_argument("--only", default="", help="substring of the file names to score")
    args = ap.parse_args(argv)
    manifest = {m["file"]: m for m in json.loads((args.corpus / "manifest.json").read_text())}
    if args.dump:
        args.dump.mkdir(parents=True, exist_ok=True)
    rows, failures = [], []
    print(f"{'paper':10} {'pages':>5} {'figs':>4} {'rast':>4} {'capt':>4} {'gold_img':>8} {'gold_cap':>8} "
          f"{'in_txt':>6} {'paired':>6} {'tabs':>4} {'sec':>6}  missing")
    for name in sorted(manifest):
        if args.only not in name:
            continue
        gold = manifest[name]
        r = score_paper(args.corpus / "pdfs" / name, args.dump, args.tables)
        rows.append((gold, r))
        print(f"{name[:-4]:10} {r['pages']:5} {r['figures']:4} {r['raster']:4} {r['captioned']:4} "
              f"{gold['raster_images_ge150px']:8} {gold['figure_caption_lines']:8} {r['in_text']:6} "
              f"{r['paired']:6} {r['tables']:4} {r['seconds'] + r['table_seconds']:6.2f}  {' '.join(r['missing'])}")
        if gold["has_figures"] and r["figures"] == 0:
            failures.append(f"{name}: has figures, none found")
        if not gold["has_figures"] and r["figures"]:
            failures.append(f"{name}: text-only paper, {r['figures']} figure(s) found")
    with_figs = [r for g, r in rows if g["has_figures"]]
    in_text = sum(r["in_text"] for _, r in rows)
    paired = sum(r["paired"] for _, r in rows)
    rate = paired / in_text if in_text else 1.0
    print(f"\npapers with figures that got >=1: {sum(r['figures'] > 0 for r in with_figs)}/{len(with_figs)}")
    print(f"figures on text-only papers: {sum(r['figures'] for g, r in rows if not g['has_figures'])}")
    print(f"figures: {sum(r['figures'] for _, r in rows)} ({sum(r['raster'] for _, r in rows)} raster), "
          f"captioned {sum(r['captioned'] for _, r in rows)}")
    print(f"figure captions in text paired: {paired}/{in_text} = {rate:.1%}")
    print(f"pages {sum(r['pages'] for _, r in rows)}, figure time {sum(r['seconds'] for _, r in rows):.2f} s wall, "
          f"{sum(r['cpu'] for _, r in rows):.2f} s CPU"
          + (f"; table time {sum(r['table_seconds'] for _, r in rows):.2f} s CPU" if args.tables else ""))
    if rate < 0.8:
        failures.append(f"caption pairing {rate:.1%} < 80%")
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
