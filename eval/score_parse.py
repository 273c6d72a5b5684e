"""Score parse_pdf on the shared corpus: DOI and title accuracy against the manifest, figures, speed.

Usage: python eval/score_parse.py [--corpus ../shared/corpus] [--no-figures]
Prints one row per paper (DOI ok, title ok, figures, captions paired) and the totals: DOI right
x/N, title right x/N, and pages per second for the timed pass (text+metadata unless figures on).
Title matching is lenient because manifest titles may carry a venue or translation after the title.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
import unicodedata
from difflib import SequenceMatcher
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.types import BadPdfError  # noqa: E402
from ingest.parse import parse_pdf  # noqa: E402


def norm_title(text: str) -> str:
    """Lower-case alphanumerics (CJK kept) only, after NFKC."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", text).lower())


def title_ok(extracted: str, gold: str) -> bool:
    """Right when the extracted title equals/contains/is contained in the gold title's leading part."""
    got = norm_title(extracted)
    if len(got) < 4:
        return False
    # the real title is before ", <venue>", " (<extra>)" — try the full string and each leading cut
    leads = {gold} | {gold[: m.start()] for m in re.finditer(r",\s|\s\(|（", gold)}
    for lead in leads:
        want = norm_title(lead)
        if len(want) < 4:
            continue
        if got == want or (got in want and len(got) > 0.6 * len(want)) or (want in got and len(want) > 0.6 * len(got)):
            return True
        if SequenceMatcher(None, got, want).ratio() > 0.9:
            return True
    return False


def main() -> int:
    """Run the corpus, print per-paper rows and totals; exit 1 if the corpus is missing."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpus")
    ap.add_argument("--no-figures", action="store_true", help="time text+metadata only")
    args = ap.parse_args()
    manifest = args.corpus / "manifest.json"
    if not manifest.exists():
        print(f"corpus not found at {args.corpus}", file=sys.stderr)
        return 1
    rows = json.loads(manifest.read_text())
    doi_right = title_right = pages = 0
    started = time.perf_counter()
    for row in rows:
        path = args.corpus / "pdfs" / row["file"]
        try:
            paper = parse_pdf(path, figures=not args.no_figures)
        except BadPdfError as exc:
            print(f"{row['file']}  BAD PDF: {exc.reason}")
            continue
        meta = paper.metadata
        d_ok = meta.doi == row["doi"].lower()
        t_ok = title_ok(meta.title, row["title"])
        doi_right += d_ok
        title_right += t_ok
        pages += paper.page_count
        paired = sum(1 for f in paper.figures if f.caption)
        captions = sum(1 for b in paper.blocks if b.kind == "caption")
        print(
            f"{row['file']}  doi {'ok ' if d_ok else 'BAD'}  title {'ok ' if t_ok else 'BAD'}  "
            f"figs {len(paper.figures):3d} paired {paired:3d}  captions {captions:3d}  refs {len(paper.references):3d}  "
            f"lang {meta.lang}"
            + ("" if d_ok else f"\n      doi  got {meta.doi!r} want {row['doi'].lower()!r}")
            + ("" if t_ok else f"\n      title got {meta.title[:90]!r}\n            want {row['title'][:90]!r}")
        )
    elapsed = time.perf_counter() - started
    n = len(rows)
    print(f"\nDOI right {doi_right}/{n}   title right {title_right}/{n}")
    print(f"{pages} pages in {elapsed:.2f} s = {pages / elapsed:.1f} pages/s "
          f"({'text+metadata' if args.no_figures else 'with figures/tables'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
