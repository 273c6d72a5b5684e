"""OCR for pages without a text layer, through the tesseract binary (eng+chi_sim) when installed.

Renders the page to a PNG with PyMuPDF and runs `tesseract <png> stdout -l eng+chi_sim`. Returns None
when tesseract is missing so the caller can record a clear warning instead of failing. Leaves out
layout analysis of OCR output: a page's OCR text becomes plain paragraphs split at blank lines.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pymupdf

_DPI = 300  # tesseract's accuracy drops sharply below ~200 dpi on 9-10 pt body text
_TIMEOUT = 120  # seconds per page; a stuck tesseract must not hang an indexing run


def tesseract_path() -> str | None:
    """The tesseract executable, or None when it is not installed."""
    return shutil.which("tesseract")


def available_languages(exe: str) -> set[str]:
    """Language packs tesseract reports (e.g. {"eng", "chi_sim", "osd"})."""
    try:
        out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    return {ln.strip() for ln in out.splitlines()[1:] if ln.strip()}


def ocr_page(page: pymupdf.Page, langs: str = "eng+chi_sim") -> str | None:
    """OCR text of one page; None when tesseract is not installed (or fails to run)."""
    exe = tesseract_path()
    if exe is None:
        return None
    have = available_languages(exe)
    use = "+".join(lang for lang in langs.split("+") if lang in have) or "eng"
    pix = page.get_pixmap(dpi=_DPI, colorspace=pymupdf.csGRAY)
    with tempfile.TemporaryDirectory(prefix="souwen-ocr-") as tmp:
        png = Path(tmp) / "page.png"
        pix.save(png)
        try:
            done = subprocess.run(
                [exe, str(png), "stdout", "-l", use], capture_output=True, text=True, timeout=_TIMEOUT
            )
        except (OSError, subprocess.SubprocessError):
            return None
    if done.returncode != 0:
        return None
    return tidy_ocr_text(done.stdout)


def tidy_ocr_text(text: str) -> str:
    """Drop form feeds; remove the spaces tesseract puts between Chinese characters."""
    text = text.replace("\f", "").strip()
    return re.sub(r"(?<=[\u3400-\u9fff])[ \t]+(?=[\u3400-\u9fff])", "", text)


def ocr_paragraphs(text: str) -> list[str]:
    """OCR text split into paragraphs at blank lines, each paragraph's lines joined."""
    out = []
    for para in re.split(r"\n\s*\n", text):
        lines = [ln.strip() for ln in para.splitlines() if ln.strip()]
        if lines:
            joined = ""
            for ln in lines:
                if joined.endswith("-") and ln[:1].islower():
                    joined = joined[:-1] + ln
                elif re.search(r"[\u3400-\u9fff]$", joined) or re.match(r"[\u3400-\u9fff]", ln):
                    joined += ln
                else:
                    joined = f"{joined} {ln}".strip()
            out.append(joined)
    return out
