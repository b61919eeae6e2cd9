"""Paragraph text normalisation: character widths, invisible characters, print-layout line breaks,
and Traditional -> Simplified.

Order in the pipeline: `split_paragraphs` (plain text only) -> `normalize_paragraphs` ->
`to_simplified`. Everything here is a pure function of its input; the OpenCC converter is the only
cached state (building one parses its dictionaries, ~10 ms).

Why the line-break joining is hand-written: newspaper text arrives with the column layout's line
ends turned into paragraph breaks ("额外负\\n\\n担。"). No library repairs that for Chinese; the rule
below joins a paragraph onto the previous one only when the previous one is running body text that
stops mid-sentence and the next one reads as its continuation (no indentation, no dateline, byline,
enumerator or headline shape), so titles, subheadings and bylines keep their own paragraphs.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Literal

import opencc

from consumers.analysis import junk

# --- widths and invisible characters -------------------------------------------------------------

# Full-width forms that are ordinary Chinese punctuation stay as they are; the rest of the
# full-width ASCII block (letters, digits, ％．－／＠ ...) becomes ASCII so that "２７．５％" and
# "27.5%" are the same string for figures, search and dedup.
_KEEP_FULLWIDTH = set("！（），：；？")
_WIDTH_TABLE: dict[int, int | str | None] = {
    cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F) if chr(cp) not in _KEEP_FULLWIDTH
}
_WIDTH_TABLE[0x3000] = " "  # ideographic space
for _cp in (0x00A0, 0x1680, 0x202F, 0x205F, *range(0x2000, 0x200B)):
    _WIDTH_TABLE[_cp] = " "
for _cp in (0x00AD, 0x034F, 0x061C, 0x180E, 0xFEFF, *range(0x200B, 0x2010), *range(0x2060, 0x2065),
            *range(0xFE00, 0xFE10)):
    _WIDTH_TABLE[_cp] = None  # zero-width, soft hyphen, BOM, variation selectors
_WIDTH_TABLE[ord("\t")] = " "
for _cp in (*range(0x00, 0x09), *range(0x0A, 0x20), 0x7F, *range(0x80, 0xA0)):
    _WIDTH_TABLE.setdefault(_cp, None)  # C0/C1 controls (a paragraph is one line: \n goes too)

_SPACES = re.compile(r" {2,}")


def clean_chars(text: str) -> str:
    """Half-width ASCII, no invisible/control characters, single spaces, stripped."""
    return _SPACES.sub(" ", text.translate(_WIDTH_TABLE)).strip()


# --- paragraphs from plain text ------------------------------------------------------------------

_LINE_BREAKS = re.compile(r"\r\n|[\r\n\u2028\u2029\x0b\x0c\x85]")


def split_paragraphs(text: str) -> list[str]:
    """Plain text -> paragraphs: one per non-blank line (the seed pages separate paragraphs by blank
    lines, social-media text by single newlines; both mean a break here). Trailing whitespace is
    removed but leading indentation is kept: `normalize_paragraphs` reads an indented line as the
    start of a real paragraph, never as the continuation of a broken one."""
    return [line.rstrip() for line in _LINE_BREAKS.split(text) if line.strip()]


# --- joining print-layout breaks -----------------------------------------------------------------

_TERMINAL = set("。！？!?…；;：:")
_CLOSERS = set("”’」』）)》〉】]\"'")
_SENTENCE_MARKS = re.compile(r"[，,。；;]")
_INDENT = re.compile(r"^(?:\u3000|\s{2,}|\t)")
# A paragraph opening like one of these is a new unit even when the previous text stops mid-sentence.
_NEW_UNIT_START = re.compile(
    r"^(?:[□■●◆▲△○◇·•\-—*#【\[（(“「『]"  # bullets, brackets, an opening quote (quote-led paragraphs)
    r"|本报|新华社|中新社|据新华社|又讯|记者|通讯员|编者按|编辑|责任编辑|来源|原标题"
    r"|[一二三四五六七八九十]是|[一二三四五六七八九十]+、|第[一二三四五六七八九十]+[，,、]|\d{1,2}[.、．]\D"
    r"|首先|其次|再次|最后|此外|另外|同时[，,]|总之|综上"
    # a lead or a new paragraph's time/hearsay opener: "近期,", "11月14日,", "据悉,"
    r"|(?:近日|近期|日前|目前|当前|今年以来|近年来|连日来|据悉|据了解|据介绍|\d{1,2}月\d{1,2}日)[，,])"
)
# What continues a sentence carries on to its end, so it holds a comma or a full stop; nav bars,
# breadcrumbs, labels and headlines do not.
_CONTINUATION_MARKS = re.compile(r"[，,。；;！？!?…]")
_MIN_BODY_LEN = 30          # shorter unfinished lines are headlines or labels, not broken body text


def _ends_sentence(paragraph: str) -> bool:
    i = len(paragraph) - 1
    while i >= 0 and paragraph[i] in _CLOSERS:
        i -= 1
    if i < 0:
        return True
    if i < len(paragraph) - 1 and paragraph[i] not in _TERMINAL:
        # closing quote/bracket after ordinary text: a quoted phrase or a title ends here, and
        # a "(杨怡曼 摄)"-style credit too; treat as finished.
        return True
    return paragraph[i] in _TERMINAL


def _is_broken_body(prev: str) -> bool:
    if _ends_sentence(prev):
        return False
    # An advert line slipped between paragraphs ("急用钱？不看征信，当天放款，加微信dk6688") stops
    # without a full stop too, but it continues nothing: kept apart, it can be masked as a line.
    return len(prev) >= _MIN_BODY_LEN and bool(_SENTENCE_MARKS.search(prev)) and not junk.is_spam_text(
        to_simplified(prev))


def _continues(raw_next: str, nxt: str) -> bool:
    if _INDENT.match(raw_next) or _NEW_UNIT_START.match(nxt):
        return False
    return bool(_CONTINUATION_MARKS.search(nxt))


def _glue(a: str, b: str) -> str:
    # Chinese lines join without a space; two Latin words split by the layout need one.
    if a[-1:].isascii() and a[-1:].isalpha() and b[:1].isascii() and b[:1].isalpha():
        return f"{a} {b}"
    return a + b


_KEEP_NEWLINES = {**_WIDTH_TABLE, ord("\n"): "\n"}


def _clean_all(paragraphs: list[str]) -> list[str]:
    """clean_chars over many paragraphs with one translate and one regex pass."""
    if not paragraphs:
        return []
    if any("\n" in p for p in paragraphs):
        return [clean_chars(p) for p in paragraphs]
    joined = _SPACES.sub(" ", "\n".join(paragraphs).translate(_KEEP_NEWLINES))
    return [p.strip() for p in joined.split("\n")]


def normalize_paragraphs(paragraphs: list[str]) -> list[str]:
    """Clean characters and widths in each paragraph, drop empty ones, and join paragraphs that the
    print layout split in the middle of a sentence or word."""
    out: list[str] = []
    for raw, text in zip(paragraphs, _clean_all(paragraphs), strict=True):
        if not text:
            continue
        if out and _is_broken_body(out[-1]) and _continues(raw, text):
            out[-1] = _glue(out[-1], text)
        else:
            out.append(text)
    return out


# --- scripts -------------------------------------------------------------------------------------


@cache
def _converter() -> opencc.OpenCC:
    # tw2s (Taiwan standard -> Simplified, with phrase tables) made no errors in LIBRARIES.md's round
    # trips; plain t2s leaves 著 in 跟著/承擔著.
    return opencc.OpenCC("tw2s")


def to_simplified(text: str) -> str:
    """Traditional (or mixed) Chinese -> Simplified; Simplified text passes through unchanged."""
    return _converter().convert(text) if text else text


def simplify_paragraphs(paragraphs: list[str]) -> list[str]:
    """`to_simplified` over a page's paragraphs in one OpenCC call (one call per paragraph costs
    more in call overhead than in conversion)."""
    if not paragraphs:
        return []
    joined = to_simplified("\n".join(paragraphs))
    out = joined.split("\n")
    # OpenCC never adds or removes line breaks; fall back to one call each if it ever does.
    return out if len(out) == len(paragraphs) else [to_simplified(p) for p in paragraphs]


_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SCRIPT_SAMPLE = 4000            # characters looked at: enough to be sure, cheap on 50 MB pages
_TRADITIONAL_SHARE = 0.04        # of Han characters that tw2s changes


def detect_script(text: str) -> Literal["simplified", "traditional"]:
    """Which script a text is written in: the share of its Han characters that the Traditional ->
    Simplified conversion changes. Simplified prose scores ~0 (a stray 著 or 乾 at most), Traditional
    prose 0.2-0.3, so the threshold sits far from both."""
    sample = unicodedata.normalize("NFC", text[:_SCRIPT_SAMPLE])
    han = _HAN.findall(sample)
    if not han:
        return "simplified"
    original = "".join(han)
    changed = sum(1 for a, b in zip(original, to_simplified(original), strict=False) if a != b)
    return "traditional" if changed / len(han) >= _TRADITIONAL_SHARE else "simplified"
