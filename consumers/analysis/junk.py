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
* `spam_sentence_spans`: an advert sentence slipped into a news paragraph ("…工作群623个。急需资金
  请加微信…当天放款。保留的…"): the paragraph stays, the pipeline cuts the sentence out.

Keyword lists live in `data/lexicons/` (`spam_terms.tsv`, `junk_keywords.tsv`), curated by hand
for news text and matched with pyahocorasick (one automaton each, built once per process). The
line rules are hand-written because no library classifies Chinese page furniture after
extraction: trafilatura drops most of it from HTML, but plain-text input (e-paper dumps, reposts)
and lines inside the content element arrive with it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import ahocorasick

from consumers.analysis import spam_signals
from consumers.analysis.segment import cut
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
def _furniture_automaton(with_widgets: bool = True) -> ahocorasick.Automaton:
    """Furniture keywords -> kinds. Widget words (图, 中, 分享, 视频 ...) occur in most sentences, so
    the automaton used on longer lines leaves them out (the widget rule only judges short lines)."""
    automaton = ahocorasick.Automaton()
    kinds: dict[str, set[str]] = {}
    for kind, term in _read_tsv("junk_keywords.tsv"):
        kinds.setdefault(term, set()).add(kind)
    for term, term_kinds in kinds.items():
        if with_widgets or term_kinds - {"widget"}:
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
_MAX_NAV_ITEM = 8          # nav bar items: "首页", "福建", "时评", "往期回顾"
_NAV_SHORT_SHARE = 0.75    # a nav bar may start with one long item (the paper's name and date)
_MAX_SHORT_BULLET = 8      # "• 三天": a sidebar tab, junk when it sits among other junk
_MAX_TAIL_MARKER = 12


def _han_count(text: str) -> int:
    return len(_HAN.findall(text))


_Match = tuple[int, int, frozenset[str]]  # start, end, keyword kinds


def _furniture_matches(lower: str, with_widgets: bool = True) -> list[_Match]:
    """Leftmost-longest furniture keyword matches in a lower-cased line."""
    return [
        (end - len(term) + 1, end + 1, kinds)
        for end, (term, kinds) in _furniture_automaton(with_widgets).iter_long(lower)
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
    short = sum(1 for item in items if len(item) <= _MAX_NAV_ITEM)
    if len(items) >= 3 and short >= 3 and short / len(items) >= _NAV_SHORT_SHARE:
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


_PROSE = _LineFacts(furniture=False, weak=False, feed_tail=False, ad_block=False)


def _line_facts(line: str) -> _LineFacts:
    sentences = bool(_SENTENCE_PUNCT.search(line))
    if sentences and len(line) > _MAX_FOOTER_LINE:
        return _PROSE  # every furniture rule needs a shorter line or one without sentences
    lower = line.lower()
    short = len(line) <= _MAX_WIDGET_LINE
    matches = _furniture_matches(lower, with_widgets=short)
    if sentences and not short and not matches:
        return _PROSE  # fast path for body text: nav bars and crumbs have no sentences
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
_INJECTED_MAX_SHARE_OF_LINE = 0.5   # an injected advert sentence is less than half its paragraph
_SENTENCE_BREAK = re.compile(r"[。！？!?；;]+[”’」』）)]?")


@dataclass(slots=True)
class SpamScore:
    score: int                # sum of term weights (leftmost-longest matches)
    strong: int               # matches of weight 3
    density: float            # share of the text's characters covered by matches


def spam_score(text: str) -> SpamScore:
    """Spam terms of the folded text (`spam_signals.fold`: split words joined, reported quotes out)."""
    folded = spam_signals.fold(text)
    score = strong = covered = 0
    for _end, (term, weight) in _spam_automaton().iter_long(folded):
        score += weight
        strong += weight >= 3
        covered += len(term)
    return SpamScore(score, strong, covered / max(len(folded), 1))


def is_spam_text(text: str) -> bool:
    """Several spam terms, at least one unambiguous, and (on longer texts) packed densely, as keyword
    lines are and news sentences are not."""
    s = spam_score(text)
    if s.strong == 0 or s.score < _SPAM_LINE_SCORE:
        return False
    return len(text) <= _SPAM_DENSE_LINE or s.density >= _SPAM_MIN_DENSITY


@lru_cache(maxsize=8192)  # the verdict, the mask and the pipeline look at the same lines of a page
def spam_sentence_spans(line: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of advert sentences slipped into a paragraph of news ("…工作群623个。急需资金周转请
    加微信…，当天放款。保留的工作群…"): spam sentences that are a minority of the paragraph, whose
    other sentences carry no unambiguous spam term. () when the paragraph is all spam or all news."""
    if not spam_score(line).strong:          # most lines: no spam at all, one automaton pass
        return ()
    bounds = [0, *(m.end() for m in _SENTENCE_BREAK.finditer(line))]
    if bounds[-1] != len(line):
        bounds.append(len(line))
    if len(bounds) < 3:                      # one sentence: the line is judged as a whole
        return ()
    spans = [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if is_spam_text(line[a:b])]
    if not spans:
        return ()
    rest = "".join(line[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if (a, b) not in spans)
    if len(rest) < _INJECTED_MAX_SHARE_OF_LINE * len(line) or spam_score(rest).strong:
        return ()                            # spun text: the spam runs through the whole paragraph
    return tuple(spans)


def strip_spam_sentences(line: str) -> str:
    """The paragraph without its injected advert sentences (see `spam_sentence_spans`)."""
    return cut_spans(line, spam_sentence_spans(line))


def cut_spans(text: str, spans: Iterable[tuple[int, int]]) -> str:
    kept, cursor = [], 0
    for start, end in spans:
        kept.append(text[cursor:start])
        cursor = end
    kept.append(text[cursor:])
    return "".join(kept)


@lru_cache(maxsize=8192)
def is_spam_line(line: str) -> bool:
    """An injected porn/gambling/black-market line (see `_is_spam_text`); a news paragraph that only
    carries an injected advert sentence is not one: that sentence is cut out instead."""
    return is_spam_text(line) and not spam_sentence_spans(line)


def junk_mask(paragraphs: list[str]) -> list[bool]:
    """True for each paragraph to drop before splitting into stories: furniture or injected spam."""
    return [f or is_spam_line(p) for f, p in zip(furniture_mask(paragraphs), paragraphs, strict=True)]


# --- page-level spam ----------------------------------------------------------------------------

_SPAM_SHARE = 0.25            # of the page's characters in spam lines
_SPAM_LINES = 3               # an injected header is one or two lines; mirror pages repeat them
_PROSE_SPAM_TERMS = 3         # distinct unambiguous spam terms inside prose: spun carrier text
_LIST_ITEM_MAX = 12           # items of keyword lists and link farms are short
_LIST_LINE_ITEMS = 4
_LIST_SHARE = 0.6             # of lines that are keyword lists...
_MIN_PROSE_CHARS = 300        # ...on a page with less prose than this
_SPAM_TITLE_SEGMENTS = 3      # "real headline_kw_kw_kw": keywords glued to a title
_PROSE_OVER_SPAM = 2          # a story carrying spam lines has at least twice their length in prose
_REPEATED_MIN_COUNT = 8
_REPEATED_SHARE = 0.3         # news: at most ~0.2 (a short brief naming its district thrice)
_HEADLINE_MIN_HAN = 8         # the copied headline a mirror glues its keywords to
_STUFFED_TITLE_SEGMENTS = 4
_LINK_FARM_MIN_LINKS = 8
_LINK_FARM_SPAM_LINKS = 3
_LINK_FARM_SPAM_SHARE = 0.25   # of all the page's links
_LIST_SEPARATORS = re.compile(r"[|｜丨_\-—,，、/\s]+")
_TITLE_SEGMENTS = re.compile(r"[_|｜丨\-—]+")


def _is_keyword_list(line: str) -> bool:
    """A line of short items joined by separators, without sentences: keyword stuffing or links."""
    if "。" in line:
        return False
    items = [item for item in _LIST_SEPARATORS.split(line) if item]
    return len(items) >= _LIST_LINE_ITEMS and max(len(item) for item in items) <= _LIST_ITEM_MAX


def _is_prose(line: str) -> bool:
    return "。" in line and len(_SENTENCE_PUNCT.findall(line)) >= 2


def spam_terms(text: str, min_weight: int = 3) -> set[str]:
    """The distinct spam terms of at least `min_weight` in a text (leftmost-longest matches)."""
    folded = spam_signals.fold(text)
    return {term for _end, (term, weight) in _spam_automaton().iter_long(folded) if weight >= min_weight}


def _strong_terms(text: str) -> set[str]:
    return spam_terms(text, 3)


def _spam_title(title: str) -> bool:
    """A title carrying spam: a keyword line, or a headline with spam keywords glued on by "_"/"-"."""
    if is_spam_line(title):
        return True
    segments = [seg for seg in _TITLE_SEGMENTS.split(title) if seg.strip()]
    return len(segments) >= _SPAM_TITLE_SEGMENTS and spam_score(title).score >= 3


def _spam_site_name(segments: list[str]) -> bool:
    """A headline whose site-name segment (the last one, where a portal names itself) is a spam
    brand: "隆回县督查检查考核“瘦身”…-澳门银河官方网站" is a mirror site's copy, not the outlet's page."""
    if len(segments) < 2 or not spam_score(segments[-1]).strong:
        return False
    return all(not spam_score(seg).score for seg in segments[:-1]) and _han_count(segments[0]) >= _HEADLINE_MIN_HAN


def _repeated_keyword_share(text: str) -> float:
    """Share of the page's Han characters taken by its most repeated word (2+ characters): keyword
    stuffing repeats one phrase ("减肥药哪个好 减肥药排行榜 减肥药效果…"); news varies its words."""
    han = _han_count(text)
    counts = Counter(t for t in cut(text) if len(t) >= 2 and _han_count(t) == len(t))
    if not han or not counts:
        return 0.0
    word, count = counts.most_common(1)[0]
    return count * len(word) / han if count >= _REPEATED_MIN_COUNT else 0.0


def _glued_headline(line: str) -> bool:
    """A first line that is a headline with spam keywords glued on ("泸县精简会议文件｜成 人 影 院｜…"):
    one segment long and free of spam (the copied headline), the others carrying spam terms."""
    if _SENTENCE_PUNCT.search(line.replace(",", "")) and "。" in line:
        return False
    segments = [seg.strip() for seg in _TITLE_SEGMENTS.split(line) if seg.strip()]
    if len(segments) < _SPAM_TITLE_SEGMENTS:
        return False
    clean = [seg for seg in segments if not spam_score(seg).score]
    spammy = [seg for seg in segments if spam_score(seg).strong]
    return bool(spammy) and any(_han_count(seg) >= _HEADLINE_MIN_HAN for seg in clean)


def _stuffed_title(title: str) -> bool:
    """A <title> of keyword variants ("隆鼻_隆鼻价格_隆鼻医院_隆鼻多少钱…"): many short segments that
    all repeat the first one's opening characters."""
    segments = [seg.strip() for seg in _TITLE_SEGMENTS.split(title) if seg.strip()]
    if len(segments) < _STUFFED_TITLE_SEGMENTS:
        return False
    stem = segments[0][:2]
    return sum(stem in seg for seg in segments) >= _STUFFED_TITLE_SEGMENTS


def _link_farm(anchors: list[str], prose_chars: int) -> bool:
    """Many links, a good share of them to spam trades, on a page with little prose of its own.
    The share matters: a real portal's navigation and related-news sidebar carry dozens of links,
    and a few of those are headlines about crack-downs on gambling, loans or fake invoices."""
    if len(anchors) < _LINK_FARM_MIN_LINKS or prose_chars >= _MIN_PROSE_CHARS:
        return False
    spam_links = sum(1 for a in anchors if spam_score(a).score >= 2)
    return spam_links >= max(_LINK_FARM_SPAM_LINKS, _LINK_FARM_SPAM_SHARE * len(anchors))


def page_spam_verdict(title: str | None, paragraphs: list[str], head_title: str | None = None,
                      anchors: list[str] | None = None,
                      html_contacts: int | Callable[[], int] = 0) -> SpamVerdict:
    """Is the whole page spam? One or two injected spam lines (or advert sentences) over a genuine
    story are not (they are masked or cut instead). Spam are: pages whose spam lines are many, or
    carry a large share of a page that has little news prose besides (keyword pages, mirror pages
    with keyword headers, including a keyword `<title>` over a copied story: `head_title`), carrier
    text with spam terms woven into its sentences (machine-spun tip pages and copies of news),
    pages stuffed with one repeated keyword, and pages made of keyword lists with little prose (SEO
    stuffing, link farms, mail-order ads) - the last two rules need no vocabulary at all.
    Vocabulary-light signals (`spam_signals`) add: adverts (contact hooks and sales talk on a page
    without news structure; `html_contacts` counts hooks in the HTML, whose footer extraction drops, or is a function
    that does),
    keywords glued to a copied headline, link farms (`anchors`: the HTML's link texts) and
    stuffed <title>s."""
    if not paragraphs and not title:
        return SpamVerdict(False)
    total = sum(len(p) for p in paragraphs) or 1
    injected = [spam_sentence_spans(p) for p in paragraphs]
    cleaned = [cut_spans(p, spans) for p, spans in zip(paragraphs, injected, strict=True)]
    spam_flags = [is_spam_line(p) for p in cleaned]
    spam_lines = sum(spam_flags) + sum(len(spans) for spans in injected)
    spam_chars = sum(len(p) for p, f in zip(cleaned, spam_flags, strict=True) if f) + sum(
        b - a for spans in injected for a, b in spans)
    spam_share = spam_chars / total
    prose = [p for p, f in zip(cleaned, spam_flags, strict=True) if not f and _is_prose(p)]
    prose_chars = sum(len(p) for p in prose)
    woven = set().union(*(_strong_terms(p) for p in prose)) if prose else set()
    if spam_lines + len(woven) >= _SPAM_LINES or (spam_share >= _SPAM_SHARE and prose_chars < _PROSE_OVER_SPAM * spam_chars):
        return SpamVerdict(True, "porn/gambling keyword lines", round(max(spam_share, 0.5), 3))
    if len(woven) >= _PROSE_SPAM_TERMS:
        return SpamVerdict(True, "spam terms woven into text", round(min(1.0, len(woven) / 10), 3))

    titles = [t for t in dict.fromkeys((title, head_title)) if t and t not in paragraphs]
    page_text = "\n".join([*titles, *cleaned])
    if spam_signals.advert_page(page_text, html_contacts):
        return SpamVerdict(True, "advert: contact hooks and sales talk, no news structure", 0.7)
    if paragraphs and _glued_headline(paragraphs[0]) or any(_glued_headline(t) for t in titles):
        return SpamVerdict(True, "porn/gambling keywords glued to a copied headline", 0.6)
    if anchors and _link_farm(anchors, prose_chars):
        return SpamVerdict(True, "keyword lists / link farm", 0.6)
    # a title "<headline>-<spam brand>" names the site that serves the page: a mirror, whatever the
    # body (plain text: the first line is the title; a keyword line alone, as in seed 003, is not)
    named = titles or paragraphs[:1]
    if any(_spam_site_name([seg for seg in _TITLE_SEGMENTS.split(t) if seg.strip()]) for t in named):
        return SpamVerdict(True, "copied story under a spam site's name", 0.6)
    title_spam = any(_spam_title(t) for t in titles)
    if title_spam and (spam_lines or woven or total < _MIN_PROSE_CHARS or (head_title and _spam_title(head_title))):
        return SpamVerdict(True, "porn/gambling keyword header", 0.6)

    stuffed = any(_stuffed_title(t) for t in titles)
    if stuffed or spam_terms(page_text, min_weight=2):  # segmenting the page is only worth it on a suspect one
        repeated = _repeated_keyword_share(page_text)
        if repeated >= _REPEATED_SHARE:
            return SpamVerdict(True, "one keyword repeated over the page", round(repeated, 3))

    lines = [p for p, f in zip(cleaned, spam_flags, strict=True) if not f]
    if lines:
        list_share = sum(1 for p in lines if _is_keyword_list(p)) / len(lines)
        if list_share >= _LIST_SHARE and prose_chars < _MIN_PROSE_CHARS:
            return SpamVerdict(True, "keyword lists / link farm", round(list_share, 3))
    return SpamVerdict(False, None, round(spam_share, 3))
