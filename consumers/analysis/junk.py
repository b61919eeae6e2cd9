"""Junk in extracted text: page-level spam, and line-level furniture and injected spam.

Input is normalised, Simplified paragraphs (run `normalize` first). Two questions:

* `page_spam_verdict`: is the whole page spam (porn/gambling keyword pages, SEO keyword stuffing,
  link farms, machine-spun filler)? Such a page yields no story at all.
* `junk_mask`: which lines of a genuine page must not reach a story: an injected spam line, page
  furniture (navigation, breadcrumbs, share/print/comment widgets, "更多>>" lists, metadata and
  editor lines, licence/ICP/phone/e-mail footers), section markers ("01", "图片"), and foreign
  blocks that run to the end of the page (a "热门推荐" social feed, a 公益广告 block).
  `furniture_mask` is the same without the spam rule; extraction uses it, because a spam line must
  survive until `page_spam_verdict` has counted it.

Keyword lists live in `data/lexicons/` (`spam_terms.tsv`, `junk_keywords.tsv`), curated by hand
for news text and matched with pyahocorasick (one automaton each, built once per process). The
line rules are hand-written because no library classifies Chinese page furniture after
extraction: trafilatura drops most of it from HTML, but plain-text input (e-paper dumps, reposts)
and lines inside the content element arrive with it.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import ahocorasick

from consumers.analysis.types import SpamVerdict

LEXICON_DIR = Path(__file__).parent / "data" / "lexicons"

# --- lexicons ------------------------------------------------------------------------------------


def _read_tsv(name: str) -> list[tuple[str, str]]:
    rows = []
    for line in (LEXICON_DIR / name).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        tag, term = line.split("\t", 1)
        rows.append((tag.strip(), term.strip().lower()))
    return rows


@cache
def _spam_automaton() -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    for weight, term in _read_tsv("spam_terms.tsv"):
        automaton.add_word(term, (term, int(weight)))
    automaton.make_automaton()
    return automaton


@cache
def _furniture_automaton() -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    kinds: dict[str, set[str]] = {}
    for kind, term in _read_tsv("junk_keywords.tsv"):
        kinds.setdefault(term, set()).add(kind)
    for term, term_kinds in kinds.items():
        automaton.add_word(term, (term, frozenset(term_kinds)))
    automaton.make_automaton()
    return automaton


# --- character classes and patterns --------------------------------------------------------------

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaffA-Za-z]")
_SENTENCE_PUNCT = re.compile(r"[，,。；;！？!?]")
_SYMBOLS = re.compile(r"[\s\W_]+", re.UNICODE)  # spaces, punctuation, emoji (not letters/digits/Han)
_NAV_SEPARATORS = re.compile(r"\s*[|｜丨]\s*")
_CRUMB_SEPARATORS = re.compile(r"\s*(?:>>|>|»|›|→)\s*")
_BULLET = re.compile(r"^[•·●◆◇■□▪▫○◎★☆►▶➤\-*]\s*")
_PHONE = re.compile(r"(?<!\d)(?:0\d{2,3}[-－—]?\d{7,8}|1[3-9]\d{9}|400[-－—]?\d{3}[-－—]?\d{4})(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.ASCII)
_DATETIME = re.compile(r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?(?:\s*\d{1,2}:\d{2})?")
_PRINT_SOURCE = re.compile(r"^《\s*[^》]{1,20}\s*》\s*[（(]\s*\d{4}年\d{1,2}月\d{1,2}日.{0,12}版\s*[）)]$")
_MORE_LINKS = re.compile(r"^(?:更多|more)\s*(?:>>|>|»|\.\.\.|…)", re.IGNORECASE)
_CREDIT_WORDS = re.compile(r"记者|通讯员|摄|供图|作者|文/|图/")

_MAX_WIDGET_LINE = 40
_MAX_MARKER_LINE = 12      # "01", "▲", "—2—"
_MAX_META_LINE = 90
_MAX_FOOTER_LINE = 220
_MAX_SHORT_BULLET = 8      # "• 三天": a sidebar tab, junk when it sits among other junk
_MAX_TAIL_MARKER = 12


def _han_count(text: str) -> int:
    return len(_HAN.findall(text))


_Match = tuple[int, int, frozenset[str]]  # start, end, keyword kinds


def _furniture_matches(lower: str) -> list[_Match]:
    """Leftmost-longest furniture keyword matches in a lower-cased line."""
    return [
        (end - len(term) + 1, end + 1, kinds)
        for end, (term, kinds) in _furniture_automaton().iter_long(lower)
    ]


# --- line rules ----------------------------------------------------------------------------------


def _is_marker(line: str) -> bool:
    """Section numbers, arrows, emoji-only lines: nothing a reader would call text."""
    return len(line) <= _MAX_MARKER_LINE and not _WORD_CHAR.search(line)


def _is_widget(lower: str, matches: list[_Match]) -> bool:
    """A line made only of controls and counters: "发布 👍 0 举报 写留言", "分享到:", "图片"."""
    if len(lower) > _MAX_WIDGET_LINE:
        return False
    covered = bytearray(len(lower))
    for start, end, kinds in matches:
        if "widget" in kinds or "meta" in kinds:
            covered[start:end] = b"\x01" * (end - start)
    if not any(covered):
        return False
    rest = "".join(ch for ch, c in zip(lower, covered, strict=False) if not c)
    return not _WORD_CHAR.search(rest)


def _is_nav_bar(line: str) -> bool:
    if _SENTENCE_PUNCT.search(line) or _CREDIT_WORDS.search(line):
        return False
    items = [item for item in _NAV_SEPARATORS.split(line) if item]
    if len(items) >= 3 and max(len(item) for item in items) <= 8:
        return True
    spaced = line.split()
    return len(spaced) >= 5 and max(len(item) for item in spaced) <= 4 and _han_count(line) >= 8


def _is_breadcrumb(line: str, kinds: Counter[str]) -> bool:
    if kinds["breadcrumb"] and len(line) <= _MAX_META_LINE:
        return True
    items = [item for item in _CRUMB_SEPARATORS.split(line) if item]
    return (
        len(items) >= 3
        and len(_CRUMB_SEPARATORS.findall(line)) >= 2
        and max(len(item) for item in items) <= 10
        and not _SENTENCE_PUNCT.search(line)
    )


def _is_meta(line: str, lower: str, kinds: Counter[str], matches: list[_Match]) -> bool:
    """Source/editor/time lines: "来源丨人民日报", "(责编:王五)", "发布日期:... 来源:... 作者:..."."""
    if _PRINT_SOURCE.match(line) or _MORE_LINKS.match(lower):
        return True
    if not kinds["meta"] or len(line) > _MAX_META_LINE:
        return False
    lead = len(line) - len(line.lstrip("([（【 "))
    starts_with_meta = any(start <= lead and "meta" in k for start, _end, k in matches)
    return starts_with_meta or kinds["meta"] >= 2 or bool(_DATETIME.search(line))


def _is_footer(line: str, kinds: Counter[str]) -> bool:
    if len(line) > _MAX_FOOTER_LINE:
        return False
    strong = kinds["footer_strong"]
    weak = kinds["footer_weak"] + len(_PHONE.findall(line)) + len(_EMAIL.findall(line))
    if strong:
        return True
    # A story may give a hotline in a full sentence ("...可拨打热线0471-1234567。"); a footer does not
    # end like a sentence.
    return weak >= 2 and not line.endswith("。")


def _body_like(line: str) -> bool:
    return "。" in line or (len(line) >= 40 and len(_SENTENCE_PUNCT.findall(line)) >= 2)


@dataclass(slots=True)
class _LineFacts:
    furniture: bool        # junk on its own
    weak: bool             # junk when next to junk (short bullet items of a sidebar)
    feed_tail: bool        # junk, and so is everything after it
    ad_block: bool         # junk, and so are the following non-body lines


def _line_facts(line: str) -> _LineFacts:
    lower = line.lower()
    matches = _furniture_matches(lower)
    kinds = Counter(kind for _start, _end, match_kinds in matches for kind in match_kinds)
    compact_len = len(_SYMBOLS.sub("", line))
    feed_tail = bool(kinds["feed_tail"]) and compact_len <= _MAX_TAIL_MARKER
    ad_block = bool(kinds["ad_block"]) and compact_len <= 2 * _MAX_TAIL_MARKER
    furniture = (
        feed_tail
        or ad_block
        or _is_marker(line)
        or _is_widget(lower, matches)
        or _is_nav_bar(line)
        or _is_breadcrumb(line, kinds)
        or _is_meta(line, lower, kinds, matches)
        or _is_footer(line, kinds)
    )
    bullet = _BULLET.match(line)
    weak = bool(bullet) and compact_len <= _MAX_SHORT_BULLET and not _SENTENCE_PUNCT.search(line)
    return _LineFacts(furniture, weak, feed_tail, ad_block)


def furniture_mask(paragraphs: list[str]) -> list[bool]:
    """True for each paragraph that is page furniture (see module doc); spam lines are not judged."""
    facts = [_line_facts(p) for p in paragraphs]
    mask = [f.furniture for f in facts]
    for i, fact in enumerate(facts):
        if fact.feed_tail:
            mask[i:] = [True] * (len(mask) - i)
            break
        if fact.ad_block:
            j = i + 1
            while j < len(paragraphs) and not _body_like(paragraphs[j]):
                mask[j] = True
                j += 1
    # Sidebar tabs ("• 三天", "• 一周") are junk only in the company of junk: spread from neighbours.
    changed = True
    while changed:
        changed = False
        for i, fact in enumerate(facts):
            near_junk = (i > 0 and mask[i - 1]) or (i + 1 < len(mask) and mask[i + 1])
            if fact.weak and not mask[i] and near_junk:
                mask[i] = changed = True
    return mask


# --- spam lines ----------------------------------------------------------------------------------

_SPAM_LINE_SCORE = 6          # weighted spam-term score of a junk line
_SPAM_DENSE_LINE = 120        # longer lines must also be dense with spam terms...
_SPAM_MIN_DENSITY = 0.25      # ...share of their characters inside matched terms


@dataclass(slots=True)
class SpamScore:
    score: int                # sum of term weights (leftmost-longest matches)
    strong: int               # matches of weight 3
    density: float            # share of the text's characters covered by matches


def spam_score(text: str) -> SpamScore:
    lower = text.lower()
    score = strong = covered = 0
    for _end, (term, weight) in _spam_automaton().iter_long(lower):
        score += weight
        strong += weight >= 3
        covered += len(term)
    return SpamScore(score, strong, covered / max(len(text), 1))


def is_spam_line(line: str) -> bool:
    """An injected porn/gambling/black-market line: several spam terms, at least one unambiguous,
    and (on longer lines) packed densely, as keyword lines are and news sentences are not."""
    s = spam_score(line)
    if s.strong == 0 or s.score < _SPAM_LINE_SCORE:
        return False
    return len(line) <= _SPAM_DENSE_LINE or s.density >= _SPAM_MIN_DENSITY


def junk_mask(paragraphs: list[str]) -> list[bool]:
    """True for each paragraph to drop before splitting into stories: furniture or injected spam."""
    return [f or is_spam_line(p) for f, p in zip(furniture_mask(paragraphs), paragraphs, strict=True)]


# --- page-level spam -----------------------------------------------------------------------------

_SPAM_SHARE = 0.25            # of the page's characters in spam lines
_STUFFING_MIN_BYTES = 600     # compressibility means little on short texts
_STUFFING_RATIO = 0.22        # zlib size / raw size; news prose compresses to ~0.4-0.5
_STUFFING_TOP_SHARE = 0.06    # one 4-gram covering this share of all 4-grams: keyword repetition
_LINK_FARM_MIN_LINES = 12
_LINK_FARM_SHARE = 0.7        # of lines that are short headline-like fragments


def _stuffing(text: str) -> float | None:
    """Signs of keyword stuffing: the text compresses far better than prose and one phrase
    dominates. Returns the compression ratio when both hold."""
    raw = text.encode("utf-8")
    if len(raw) < _STUFFING_MIN_BYTES:
        return None
    ratio = len(zlib.compress(raw, 6)) / len(raw)
    han = "".join(_HAN.findall(text))
    grams = Counter(han[i : i + 4] for i in range(len(han) - 3))
    if not grams:
        return None
    top_share = grams.most_common(1)[0][1] / sum(grams.values())
    return ratio if ratio <= _STUFFING_RATIO and top_share >= _STUFFING_TOP_SHARE else None


def _link_farm(paragraphs: list[str]) -> bool:
    if len(paragraphs) < _LINK_FARM_MIN_LINES:
        return False
    fragments = sum(1 for p in paragraphs if len(p) <= 30 and not _SENTENCE_PUNCT.search(p))
    prose = sum(len(p) for p in paragraphs if _body_like(p))
    return fragments / len(paragraphs) >= _LINK_FARM_SHARE and prose < 300


def page_spam_verdict(title: str | None, paragraphs: list[str]) -> SpamVerdict:
    """Is the whole page spam? One injected spam line over a genuine story is not (the line is
    masked instead); a spam title over little else, pages where spam lines carry a large share of
    the text, keyword-stuffed text and link farms are."""
    total = sum(len(p) for p in paragraphs) or 1
    spam_lines = [p for p in paragraphs if is_spam_line(p)]
    spam_share = sum(len(p) for p in spam_lines) / total
    title_is_spam = bool(title) and is_spam_line(title) and title not in paragraphs
    if spam_share >= _SPAM_SHARE:
        return SpamVerdict(True, "porn/gambling keyword lines", round(spam_share, 3))
    if title_is_spam and (spam_lines or total < 300):
        return SpamVerdict(True, "porn/gambling keyword header", round(max(spam_share, 0.5), 3))
    clean = [p for p in paragraphs if not is_spam_line(p)]
    stuffing = _stuffing("\n".join(clean))
    if stuffing is not None:
        return SpamVerdict(True, "keyword stuffing", round(1 - stuffing, 3))
    if _link_farm(clean):
        return SpamVerdict(True, "link farm", 0.8)
    return SpamVerdict(False, None, round(spam_share, 3))
