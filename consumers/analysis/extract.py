"""HTML page -> ExtractedPage (title, paragraphs, publication date, byline, outlet).

trafilatura does the heavy lifting (`bare_extraction`, precision mode, with metadata; its date comes
from htmldate). On top of it, what Chinese news pages need:

* decoding that survives wrong or missing charsets: UTF-8 when the bytes are valid UTF-8 (a
  page declaring gb2312 but served as UTF-8 is common), else the declared charset (w3lib maps
  gb2312/gbk to gb18030), else charset-normalizer's guess;
* one paragraph per block element, `<br>` included (many CMSs separate paragraphs with `<br>`
  only), so the paragraph structure reaches `normalize` and `split`;
* the full headline: `<title>` often carries kicker + headline where `<h1>` has half of it;
* byline (本报记者/记者 X/通讯员/新华社记者) and outlet (来源：X) that trafilatura does not find
  in Chinese pages;
* residual furniture lines (metadata lines, share widgets, footers inside the content element)
  dropped with `junk.furniture_mask`; spam lines are left for `junk.page_spam_verdict`;
* per-source hints `{"body_xpath", "title_xpath"}` that win over the heuristics.

The HTML is parsed once (lxml via trafilatura's loader); trafilatura works on its own copy of
that tree. Nothing here raises: broken, huge or binary input gives an ExtractedPage with no
paragraphs.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

import trafilatura
from charset_normalizer import from_bytes
from htmldate import find_date
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.metadata import examine_meta, extract_author, extract_title
from trafilatura.utils import load_html
from w3lib.encoding import html_body_declared_encoding, read_bom, resolve_encoding

from consumers.analysis import junk, normalize, split
from consumers.analysis.types import ExtractedPage

LOGGER = logging.getLogger(__name__)

MAX_HTML_CHARS = 4_000_000     # beyond this a "page" is a dump or inline media; the article is early
_BINARY_SAMPLE = 4096
_BINARY_SHARE = 0.05           # control characters in a text page are ~0

# trafilatura walks the tree with its own heuristics; htmldate (inside it) prefers the original
# publication date over "updated" stamps.
_DATE_PARAMS = {"original_date": True, "extensive_search": True, "outputformat": "%Y-%m-%d"}

# --- decoding ------------------------------------------------------------------------------------


def decode_html(data: bytes) -> str:
    """Bytes -> text: BOM, then strict UTF-8, then the declared charset, then a statistical guess,
    then GB18030 with replacement (the superset of GB2312/GBK, the usual Chinese legacy charsets)."""
    bom_encoding, bom = read_bom(data)
    if bom_encoding:
        return data[len(bom):].decode(bom_encoding, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = html_body_declared_encoding(data[:4096])
    candidates = [resolve_encoding(declared)] if declared else []
    guess = from_bytes(data[:20000]).best()
    if guess is not None:
        candidates.append(resolve_encoding(guess.encoding) or guess.encoding)
    for encoding in candidates:
        if not encoding:
            continue
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("gb18030", errors="replace")


_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f]")


def _looks_binary(text: str) -> bool:
    sample = text[:_BINARY_SAMPLE]
    return bool(sample) and len(_CONTROL.findall(sample)) / len(sample) > _BINARY_SHARE


# --- tree -> paragraphs --------------------------------------------------------------------------

# Elements whose text runs inside a paragraph; everything else (p, div, td, li, h1-h6, and
# trafilatura's p/head/item/cell/quote) starts and ends a paragraph.
_INLINE = frozenset(
    ["a", "abbr", "b", "big", "cite", "code", "del", "em", "font", "hi", "i", "ins", "kbd", "label", "mark", "q", "ref", "s", "samp", "small", "span", "strike", "strong", "sub", "sup", "time", "tt", "u", "var", "wbr"]
)
_BREAKS = frozenset(("br", "lb"))
_SKIP = frozenset(
    ["script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas", "form", "button", "select", "input", "textarea", "option", "head", "title", "meta", "link", "graphic", "img", "figure", "video", "audio", "map"]
)
_BREAK = object()


def _tag(el: etree._Element) -> str | None:
    tag = el.tag
    if not isinstance(tag, str):      # comments, processing instructions
        return None
    return tag.rsplit("}", 1)[-1].lower()


def _walk(el: etree._Element, out: list) -> None:
    tag = _tag(el)
    if tag is None or tag in _SKIP:
        return
    block = tag not in _INLINE and tag not in _BREAKS
    if block or tag in _BREAKS:
        out.append(_BREAK)
    if el.text:
        out.append(el.text)
    for child in el:
        _walk(child, out)
        if child.tail:
            out.append(child.tail)
    if block:
        out.append(_BREAK)


def tree_paragraphs(elements: list[etree._Element]) -> list[str]:
    """Text of the given elements, one paragraph per block element or line break, in order."""
    pieces: list = []
    for el in elements:
        _walk(el, pieces)
        pieces.append(_BREAK)
    paragraphs, buf = [], []
    for piece in pieces:
        if piece is _BREAK:
            text = " ".join("".join(buf).split())
            if text:
                paragraphs.append(text)
            buf = []
        else:
            buf.append(piece)
    return paragraphs


# --- titles --------------------------------------------------------------------------------------

_TITLE_SEPARATORS = re.compile(r"\s*(?:--|——|_|\||｜|-\s|\s-|–)\s*")


def _squash(text: str) -> str:
    return "".join(text.split())


def _head_title(tree: HtmlElement) -> str | None:
    titles = tree.xpath("//head/title/text()")
    return " ".join(titles[0].split()) or None if titles else None


def _best_title(tree: HtmlElement, found: str | None) -> str | None:
    """The headline: trafilatura's choice (usually <h1>), extended to the <title>'s first segment
    when that segment starts with it and says more (h1 + h2 on one line: kicker and headline)."""
    page_title = _head_title(tree) or ""
    first = _TITLE_SEPARATORS.split(page_title, maxsplit=1)[0].strip() if page_title else ""
    if found and first and _squash(first).startswith(_squash(found)) and len(first) > len(found):
        return first
    return found or first or None


def _drop_title_repeats(paragraphs: list[str], title: str | None) -> list[str]:
    """trafilatura keeps <h1>/<h2> inside the body; a paragraph that is (part of) the title goes."""
    if not title:
        return paragraphs
    squashed = _squash(title)
    k = 0
    while k < min(3, len(paragraphs)) and _squash(paragraphs[k]) and _squash(paragraphs[k]) in squashed:
        k += 1
    return paragraphs[k:]


# --- byline and outlet ---------------------------------------------------------------------------

_OUTLET = re.compile(r"(?:来源|來源|稿源|出处|出處)\s*[:：丨|]\s*([^\s|｜丨:：,，、]{2,24})")
_NOT_OUTLETS = {"网络", "網絡", "互联网", "本站", "网友", "未知"}


def _find_outlet(tree: HtmlElement) -> str | None:
    """The "来源：X" of the page, from its metadata line or a <meta name="source">."""
    for content in tree.xpath("//meta[@name='source' or @name='Source']/@content"):
        m = _OUTLET.search(content) or _OUTLET.search(f"来源：{content}")
        if m and m.group(1) not in _NOT_OUTLETS:
            return m.group(1)
    nodes = tree.xpath("//body//text()[contains(., '来源') or contains(., '來源') or contains(., '稿源')]")
    for node in nodes[:20]:
        parent = node.getparent()
        if parent is None or _tag(parent) in _SKIP:
            continue
        m = _OUTLET.search(" ".join(parent.text_content()[:300].split()))
        if m and m.group(1) not in _NOT_OUTLETS:
            return m.group(1)
    return None


def _find_byline(paragraphs: list[str], simplified: list[str]) -> str | None:
    """split.find_byline on the Simplified text, returned in the page's own script when the
    conversion kept the paragraph length (OpenCC's tw2s is character-for-character on names)."""
    found = split.find_byline(simplified)
    if not found:
        return None
    for original, simple in zip(paragraphs, simplified, strict=True):
        at = simple.find(found)
        if at >= 0 and len(original) == len(simple):
            return original[at : at + len(found)]
    return found


def _page_metadata(tree: HtmlElement, url: str | None) -> tuple[str | None, str | None]:
    """(title, ISO date) as trafilatura's extract_metadata finds them (OpenGraph and <meta> tags,
    else <h1>/<title>; htmldate for the date), without the parts newsmon does not use (site name,
    categories, tags, licence, JSON-LD): those were a fifth of the processor's time."""
    title = examine_meta(tree).title or extract_title(tree)
    return title, find_date(tree, url=url, **_DATE_PARAMS)


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


# --- the page ------------------------------------------------------------------------------------


def _xpath(tree: HtmlElement, expression: str | None) -> list:
    if not expression:
        return []
    try:
        result = tree.xpath(expression)
    except (etree.XPathError, TypeError, ValueError) as exc:
        LOGGER.warning("bad extraction hint %r: %s", expression, exc)
        return []
    return [r for r in result if isinstance(r, etree._Element)] if isinstance(result, list) else []


# trafilatura's cascade compares its own extractor with readability and jusText. On news pages its
# own extractor wins almost always: on the 600 pages of the benchmark mix the fast path (`fast=True`,
# no external extractors) gave the same stories, field for field, at half the cost. So the full
# cascade runs only when the fast path finds little text (a brief, or a layout it misreads).
# jusText's paragraph revision is also quadratic in the number of short blocks (a page of 16,000
# ad <div>s took minutes): pages with more elements than _FALLBACK_MAX_ELEMENTS never run it.
_FAST_MIN_CHARS = 100
_FALLBACK_MAX_ELEMENTS = 3_000


def _body_chars(document) -> int:
    if document is None or document.body is None or not len(document.body):
        return 0
    return len("".join(document.body.itertext()).strip())


def _trafilatura(tree: HtmlElement, url: str | None):
    """bare_extraction in precision mode on the fast path; when that finds under _FAST_MIN_CHARS,
    the full cascade in precision mode, and when that finds nothing, in the default mode."""
    def run(fast: bool, precision: bool):
        return trafilatura.bare_extraction(
            tree,
            url=url,
            fast=fast,
            favor_precision=precision,
            with_metadata=False,   # _page_metadata: only what is used, the author only when needed
            include_comments=False,
            include_tables=True,
            date_extraction_params=_DATE_PARAMS,
        )

    quick = run(True, True)
    found = _body_chars(quick)
    if found < _FAST_MIN_CHARS and sum(1 for _ in tree.iter()) <= _FALLBACK_MAX_ELEMENTS:
        for precision in (True, False):
            document = run(False, precision)
            if _body_chars(document):
                return document
    return quick if found else None


def _extract(html: str | bytes, url: str | None, hints: dict | None) -> ExtractedPage:
    text = decode_html(html) if isinstance(html, bytes) else html
    if len(text) > MAX_HTML_CHARS:
        text = text[:MAX_HTML_CHARS]
    if not text.strip() or _looks_binary(text):
        return ExtractedPage(title=None, paragraphs=[])
    tree = load_html(text.replace("\x00", ""))
    if tree is None:
        return ExtractedPage(title=None, paragraphs=[])

    hints = hints or {}
    body_nodes = _xpath(tree, hints.get("body_xpath"))
    title_nodes = _xpath(tree, hints.get("title_xpath"))
    if body_nodes:
        paragraphs = tree_paragraphs(body_nodes)
        title, date = _page_metadata(tree, url)
    else:
        document = _trafilatura(tree, url)
        if document is None:
            return ExtractedPage(title=_best_title(tree, None), paragraphs=[], head_title=_head_title(tree))
        paragraphs = tree_paragraphs([document.body])
        title, date = _page_metadata(tree, url)
        title = _best_title(tree, title)
    if title_nodes:
        title = " ".join(" ".join(n.text_content().split()) for n in title_nodes).strip() or title

    paragraphs = _drop_title_repeats(paragraphs, title)
    simplified = normalize.simplify_paragraphs([normalize.clean_chars(p) for p in paragraphs])
    furniture = junk.furniture_mask(simplified)
    paragraphs = [p for p, f in zip(paragraphs, furniture, strict=True) if not f]
    simplified = [s for s, f in zip(simplified, furniture, strict=True) if not f]
    return ExtractedPage(
        title=title,
        paragraphs=paragraphs,
        published_at=_parse_date(date),
        # trafilatura's author heuristics (class="author" and the like, outside the body) cost a
        # tree copy and a dozen XPaths: only for pages whose text has no byline line
        byline=_find_byline(paragraphs, simplified) or extract_author(tree),
        outlet=_find_outlet(tree),
        head_title=_head_title(tree),
    )


def extract_page(html: str | bytes, url: str | None = None, hints: dict | None = None) -> ExtractedPage:
    """Main text and metadata of one HTML page. Never raises: a page that cannot be read gives an
    ExtractedPage with no paragraphs (and the reason in the log)."""
    try:
        return _extract(html, url, hints)
    except Exception:  # noqa: BLE001 - a consumer must survive any page; the log keeps the cause
        LOGGER.exception("extraction failed for %s", url)
        return ExtractedPage(title=None, paragraphs=[])
