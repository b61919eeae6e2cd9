"""One page -> its stories.

A newspaper page (or an e-paper dump, or a repost page) holds several stories in reading order:
news with a dateline or byline, a commentary signed by its author, a "速览" column of briefs,
pieces continued from another page ("（上接1版）"), Weibo-style posts with a 【title】. Inside a
story there are subheadings that look exactly like titles. What tells a new story from a
subheading is what surrounds the short line, not the line itself:

* a strong start after it: a dateline ("本报讯", "本报呼和浩特6月2日讯(", "新华社北京1月30日电"),
  a byline paragraph ("□本报记者 李玉琢", "新华社记者何玲玲"), an author line alone (a commentary),
  a continuation mark, or a section label before it ("速览 SULAN");
* the end of the previous story before it: a trailing credit ("本报记者 杨丽娟 文 鞠家田 摄",
  "(王林喜)") or a dispatch tag ("(新华社北京1月30日电)");
* a news lead after it ("11月14日,", "近日,") together with a topic shift;
* failing all of these, a topic shift alone: the text under the heading shares little vocabulary
  with the story so far (subheadings continue their story's vocabulary, a new story brings its own).

A heading with no body under the current story yet is a kicker, deck or subtitle of that story
(title blocks often span two or three lines), never a new story. A run of heading lines is one
heading block; its first line that is not a section label or a "——" subtitle is the title.

Paragraphs must be junk-free, normalised and Simplified. Spans are disjoint and in order; section
labels and an orphan heading block at the very end may fall outside every span.
This is hand-written because no library segments Chinese newspaper pages into stories; the
similarity is a plain TF-IDF-style cosine over character bigrams (TextTiling's idea), which needs
no segmenter and no model.
"""

from __future__ import annotations

import math
import operator
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from consumers.analysis.types import StorySpan

LEXICON_DIR = Path(__file__).parent / "data" / "lexicons"

# --- paragraph shapes ----------------------------------------------------------------------------

_HAN = r"\u3400-\u9fff"
_DATELINE = re.compile(
    rf"^[□■●◆]?\s*(?:(?:本报|本刊|又|据?新华社|据?中新社|中新网|人民网|央视网|"
    rf"[{_HAN}]{{2,10}}(?:日报|晚报|晨报|时报|商报|报|网|台|社|客户端))"
    rf"[{_HAN}\d]{{0,12}}?(?:专电|讯|电)(?=[\s(（:：]|记者|通讯员|$)"
    r"|[（(](?:本报)?(?:特约|见习|实习)?记者)"
)
_ANOTHER_ITEM = re.compile(r"^[□■]?\s*又讯")
_CONTINUATION = re.compile(r"^[（(]\s*(?:上接|紧接|接上|转自)\s*第?\s*[\dA-Za-z一二三四五六七八九十]+\s*版\s*[）)]")
_NEWS_LEAD = re.compile(r"^(?:\d{1,2}月\d{1,2}日|近日|日前|昨日|昨天|今天|今日|连日来|近期|日前)[，,]")
_DISPATCH_END = re.compile(r"[（(](?:新华社|中新社|人民日报|记者|本报)?[^（()）]{0,24}(?:电|讯|报道)[）)]$|[（(]完[）)]$")
_WEIBO_TITLE = re.compile(r"^(?:#[^#\s]{1,30}#\s*)*【([^】]{6,60})】")
_WEIBO_LABELS = re.compile(r"编者按|记者手记|延伸阅读|相关链接|背景链接|小贴士|链接|点评|短评|提示|注意")
_SECTION_ROMANISED = re.compile(rf"^[{_HAN}]{{2,6}}\s*[A-Z]{{3,}}$")
_SECTION_LABELS = {
    "brief": ("速览", "简讯", "快讯", "短讯", "速递", "简报", "要闻速览", "新闻速递", "动态", "资讯", "一句话新闻"),
    "commentary": ("评论", "时评", "短评", "观点", "言论", "社论", "评论员文章", "今日谈", "快评"),
}
_COMMENTARY_TITLE = re.compile(r"^(?:评论员文章|本报评论员|短评|时评|社论|快评|编后|述评)")
_SENTENCE_PUNCT = re.compile(r"[，,。；;！？!?]")
_COMMAS = re.compile(r"[，,]")
_MAX_TITLE_LEN = 64
_MAX_BYLINE_LEN = 40

# Roles and outlets in bylines: "本报记者", "新华社记者", "辽宁日报记者", "大连新闻传媒集团记者", "通讯员".
_ROLE = re.compile(
    rf"(?:本报|本刊|新华社|中新社|人民日报|[{_HAN}]{{2,10}}?(?:日报|晚报|晨报|新闻传媒集团|融媒体中心|广播电视台|电视台|报社|网))?"
    r"(?:特约|见习|实习|首席|摄影)?(?:记者|通讯员|评论员|实习生)"
)
_CREDIT_WORDS = re.compile(r"(?:^|\s)(?:文|摄|图|文/图|摄影|报道|供图|整理)(?=\s|$)|[/｜|:：□■()（）、]")
_NAME = re.compile(rf"^[{_HAN}·]{{2,6}}$")


@cache
def _surnames() -> tuple[frozenset[str], frozenset[str]]:
    single, compound = set(), set()
    for line in (LEXICON_DIR / "surnames.txt").read_text(encoding="utf-8").splitlines():
        for token in line.split("#", 1)[0].split():
            (single if len(token) == 1 else compound).add(token)
    return frozenset(single), frozenset(compound)


def _looks_like_name(token: str) -> bool:
    """A personal name on its own: 2-3 characters after a common surname (4 with a compound one)."""
    single, compound = _surnames()
    if any(token.startswith(c) for c in compound):
        return 3 <= len(token) <= 5
    return token[:1] in single and 2 <= len(token) <= 3


def is_byline(paragraph: str) -> bool:
    """A paragraph that is only a byline or credit: "□本报记者 李玉琢", "新华社记者何玲玲 顾小立",
    "本报记者 杨丽娟 文 鞠家田 摄", "辽宁日报记者", "(王林喜)", or a bare author name ("姜义双")."""
    if len(paragraph) > _MAX_BYLINE_LEN or re.search(r"[，,。；;！？!?]", paragraph):
        return False
    has_role = bool(_ROLE.search(paragraph))
    rest = _CREDIT_WORDS.sub(" ", _ROLE.sub(" ", paragraph))
    tokens = rest.split()
    if has_role:
        return all(_NAME.match(t) for t in tokens)
    return 1 <= len(tokens) <= 3 and all(_looks_like_name(t) for t in tokens)


def _section_kind(paragraph: str) -> str | None:
    """'brief' / 'commentary' for a column label such as "速览 SULAN" or "简讯"; None otherwise."""
    text = paragraph.strip()
    romanised = _SECTION_ROMANISED.match(text)
    head = text.split()[0] if romanised else text
    for kind, labels in _SECTION_LABELS.items():
        if head in labels:
            return kind
    return "brief" if romanised else None


def _title_like(paragraph: str) -> bool:
    """Headline shape: short, no full stop, at most one comma, not ending mid-sentence."""
    if not 2 <= len(paragraph) <= _MAX_TITLE_LEN or "。" in paragraph:
        return False
    if paragraph[-1] in "，,、；;：:" or len(_COMMAS.findall(paragraph)) > 1:
        return False
    return not (_DATELINE.match(paragraph) or _CONTINUATION.match(paragraph))


# --- roles ---------------------------------------------------------------------------------------

_BODY, _HEADING, _LABEL, _BYLINE = "body", "heading", "label", "byline"


def _role(paragraph: str) -> str:
    if _section_kind(paragraph):
        return _LABEL
    if is_byline(paragraph):
        return _BYLINE
    if _title_like(paragraph) and not _weibo_title(paragraph):
        return _HEADING
    return _BODY


_WEIBO_MIN_TEXT = 10   # a post has its text after the 【title】; a bracket alone is a subheading


def _weibo_title(paragraph: str) -> str | None:
    m = _WEIBO_TITLE.match(paragraph)
    if m and len(paragraph) - m.end() >= _WEIBO_MIN_TEXT and not _WEIBO_LABELS.search(m.group(1)):
        return m.group(1).strip()
    return None


# --- topic similarity ----------------------------------------------------------------------------

_NON_HAN = re.compile(rf"[^{_HAN}]+")
# Bigrams every story has (function words, reporting verbs, generic nouns): they would make any two
# stories look alike. A short hand list instead of corpus IDF keeps this module free of data files.
_COMMON_BIGRAMS = frozenset((
    "我们", "他们", "记者", "表示", "介绍", "工作", "发展", "进行", "开展", "一个", "一些", "没有", "目前", "今年", "同时", "通过",
    "以及", "已经", "可以", "这个", "一步", "推进", "推动", "建设", "实现", "提升", "加强", "全面", "相关", "部门", "情况", "问题",
    "方面", "时间", "群众", "不断", "有效", "持续", "积极", "重要", "主要", "成为", "为了", "就是", "还是", "不是", "也是", "这是",
    "来自", "以上", "以下", "其中", "之间",
))
_SHIFT_SIMILARITY = 0.06      # below: the text under a heading is about something else
_LEAD_SHIFT_SIMILARITY = 0.15  # with a news lead under the heading, a milder shift suffices
_SECTION_CHARS = 600          # how much text under a heading represents it


def _bigrams(text: str) -> Counter[str]:
    """Counts of Han character bigrams (no bigram spans punctuation, digits or Latin)."""
    runs = _NON_HAN.sub("\x00", text)
    grams = Counter(map(operator.add, runs, runs[1:]))
    for gram in [g for g in grams if "\x00" in g] + list(_COMMON_BIGRAMS & grams.keys()):
        del grams[gram]
    return grams


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    # sublinear term frequency: a story repeating its key term 30 times should not drown the rest
    wa = {g: 1 + math.log(c) for g, c in a.items()}
    wb = {g: 1 + math.log(c) for g, c in b.items()}
    dot = sum(w * wb[g] for g, w in wa.items() if g in wb)
    return dot / (math.sqrt(sum(w * w for w in wa.values())) * math.sqrt(sum(w * w for w in wb.values())))


# --- scanning ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Story:
    start: int
    title: str
    title_index: int | None
    kind: str
    body_chars: int = 0
    ended: bool = False
    heading_until: int | None = None   # last index of the title block
    end: int | None = None
    members: list[int] = field(default_factory=list)   # paragraphs read so far (for its vocabulary)
    profile: Counter[str] = field(default_factory=Counter)  # bigrams of members[:profiled]
    profiled: int = 0


_MIN_BODY_CHARS = 40   # a story needs this much body before a heading can start another one


def _heading_block(paragraphs: list[str], roles: list[str], i: int) -> int:
    """Index one past the run of heading/label lines starting at i."""
    j = i
    while j < len(paragraphs) and roles[j] in (_HEADING, _LABEL):
        j += 1
    return j


def _block_title(paragraphs: list[str], roles: list[str], start: int, end: int) -> tuple[str, int] | None:
    for k in range(start, end):
        if roles[k] == _HEADING and not paragraphs[k].startswith(("——", "—", "--")):
            return paragraphs[k].strip("【】[] "), k
    return None


def _section_members(paragraphs: list[str], roles: list[str], start: int) -> list[int]:
    """The heading block at `start` and the paragraphs under it, up to the next heading."""
    out, size, k = [], 0, start
    while k < len(paragraphs) and size < _SECTION_CHARS:
        if k > start and roles[k] in (_HEADING, _LABEL) and roles[k - 1] not in (_HEADING, _LABEL):
            break
        out.append(k)
        size += len(paragraphs[k])
        k += 1
    return out


class _Profiles:
    """Bigram profiles of paragraphs, computed on first use (most pages never need one)."""

    def __init__(self, paragraphs: list[str]) -> None:
        self._paragraphs = paragraphs
        self._cache: dict[int, Counter[str]] = {}

    def of(self, members: list[int], into: Counter[str] | None = None) -> Counter[str]:
        total: Counter[str] = Counter() if into is None else into
        for k in members:
            if k not in self._cache:
                self._cache[k] = _bigrams(self._paragraphs[k])
            total.update(self._cache[k])
        return total


def split_stories(paragraphs: list[str], page_title: str | None = None) -> list[StorySpan]:
    """Split a page's cleaned paragraphs into stories (see the module doc for the rules)."""
    if not paragraphs:
        return []
    roles = [_role(p) for p in paragraphs]
    profiles = _Profiles(paragraphs)
    stories: list[_Story] = []
    current: _Story | None = None
    section_kind: str | None = None
    i, n = 0, len(paragraphs)

    def close(at: int) -> None:
        if current is not None and current.end is None:
            current.end = at

    def open_story(start: int, title: str, title_index: int | None, kind: str) -> _Story:
        close(start)
        story = _Story(start, title, title_index, kind)
        stories.append(story)
        return story

    while i < n:
        p, role = paragraphs[i], roles[i]

        if role in (_HEADING, _LABEL):
            j = _heading_block(paragraphs, roles, i)
            label_kinds = [_section_kind(paragraphs[k]) for k in range(i, j) if roles[k] == _LABEL]
            found = _block_title(paragraphs, roles, i, j)
            if found is None:                      # a bare section label
                section_kind = label_kinds[-1] if label_kinds else section_kind
                close(i)
                if current is not None and current.end is not None:
                    current = None
                i = j
                continue
            title, title_index = found
            if current is None and page_title and _same_headline(title, page_title):
                # a page's own headline repeated (or shortened) above its body: the page title is
                # the complete one ("厦门同安区:精简微信工作群 为基层干部减负" over "精简微信工作群 ...")
                title = page_title
            nxt = j if j < n else None
            if current is not None and current.body_chars < _MIN_BODY_CHARS and not label_kinds:
                # kicker, deck or subtitle of a story that has no body yet
                current.heading_until = j - 1
                i = j
                continue
            if nxt is None:
                # orphan heading at the very end: the title printed under a story that had none
                if current is not None and current.title_index is None and current.body_chars:
                    current.title, current.title_index = title, title_index
                    current.end = j
                else:
                    close(i)
                break
            starts = current is None or label_kinds or _starts_story(paragraphs, roles, nxt)
            if not starts and current is not None:
                starts = current.ended or _topic_shift(paragraphs, roles, profiles, i, nxt, current)
            if starts:
                if label_kinds:
                    section_kind = label_kinds[-1]
                kind = _story_kind(paragraphs, roles, title, nxt, section_kind)
                first = next(k for k in range(i, j) if roles[k] == _HEADING)
                current = open_story(first, title, title_index, kind)
                current.members.append(title_index)
                current.heading_until = j - 1
            elif current is not None:
                current.members.extend(range(i, j))
            i = j
            continue

        if current is None:
            weibo = _weibo_title(p)
            title = weibo or page_title or ""
            kind = "continuation" if _CONTINUATION.match(p) else (section_kind or "news")
            current = open_story(i, title, i if weibo else None, kind)
        elif current.body_chars >= _MIN_BODY_CHARS or current.ended:
            weibo = _weibo_title(p)
            if weibo:
                current = open_story(i, weibo, i, section_kind or "news")
            elif _CONTINUATION.match(p):
                current = open_story(i, current.title, None, "continuation")
            elif _ANOTHER_ITEM.match(p):
                current = open_story(i, current.title, None, section_kind or "news")
            elif role == _BYLINE and _body_follows_bylines(roles, i):
                # a byline between two bodies: a story whose title is printed elsewhere (or below)
                current = open_story(i, page_title or "", None, section_kind or "news")

        if role == _BYLINE:
            # a credit right after body text closes its story ("本报记者 X 文 Y 摄", "(王林喜)")
            if current.body_chars >= _MIN_BODY_CHARS:
                current.ended = True
        else:
            current.body_chars += len(p)
            current.ended = bool(_DISPATCH_END.search(p))
        current.members.append(i)
        i += 1

    close(n)
    return [
        StorySpan(
            start=s.start,
            end=s.end if s.end is not None else n,
            title=s.title,
            title_index=s.title_index,
            byline=find_byline(paragraphs[s.start : s.end if s.end is not None else n]),
            kind=s.kind,
        )
        for s in stories
        if s.body_chars > 0
    ]


def _same_headline(line: str, page_title: str) -> bool:
    a, b = "".join(line.split()), "".join(page_title.split())
    return bool(a) and bool(b) and (a in b or b in a)


def _body_follows_bylines(roles: list[str], i: int) -> bool:
    """Whether the run of byline lines at i ("辽宁日报记者" / "王坤 侯永锋") leads into body text."""
    while i < len(roles) and roles[i] == _BYLINE:
        i += 1
    return i < len(roles) and roles[i] == _BODY


def _starts_story(paragraphs: list[str], roles: list[str], nxt: int) -> bool:
    """Strong start under a heading: a dateline, a byline, a continuation mark or a 又讯."""
    p = paragraphs[nxt]
    return bool(
        roles[nxt] == _BYLINE
        or _DATELINE.match(p)
        or _CONTINUATION.match(p)
        or _ANOTHER_ITEM.match(p)
    )


def _topic_shift(
    paragraphs: list[str], roles: list[str], profiles: _Profiles, heading: int, nxt: int, current: _Story
) -> bool:
    section = profiles.of(_section_members(paragraphs, roles, heading))
    # the story's profile grows with the story: add only what was read since the last check
    profiles.of(current.members[current.profiled :], into=current.profile)
    current.profiled = len(current.members)
    similarity = _cosine(section, current.profile)
    threshold = _LEAD_SHIFT_SIMILARITY if _NEWS_LEAD.match(paragraphs[nxt]) else _SHIFT_SIMILARITY
    return similarity < threshold


def _story_kind(paragraphs: list[str], roles: list[str], title: str, nxt: int, section_kind: str | None) -> str:
    p = paragraphs[nxt]
    if _CONTINUATION.match(p):
        return "continuation"
    if section_kind:
        return section_kind
    if _COMMENTARY_TITLE.match(title) or "评论员" in p:
        return "commentary"
    if roles[nxt] == _BYLINE and not _ROLE.search(p):
        return "commentary"          # signed by its author alone: an opinion piece
    return "news"


# --- bylines -------------------------------------------------------------------------------------

_DATELINE_CREDIT = re.compile(r"(?:讯|电)\s*[（(]([^（()）]{2,40})[）)]")
_INLINE_REPORTER = re.compile(
    rf"(?:讯|电)\s+((?:[{_HAN}]{{0,10}}?(?:记者|通讯员)\s*[{_HAN}·]{{2,4}}?(?=报道|\s|$)\s*)+)"
)


def find_byline(paragraphs: list[str], look: int = 6) -> str | None:
    """The byline of a story from its first paragraphs: a byline paragraph ("本报记者 李玉琢"), the
    credit in a dateline's brackets ("厦门日报讯(记者 朱道衡 通讯员 杨怡曼)" -> "记者 朱道衡 通讯员
    杨怡曼"), or the reporter in "本报讯 记者姜义双报道" -> "记者姜义双". Trailing credits are the
    fallback."""
    head = paragraphs[:look]
    for k, p in enumerate(head):
        if is_byline(p) and not (k == 0 and len(paragraphs) > 1 and not _ROLE.search(p) and _title_like(p)):
            text = p.strip().lstrip("□■").strip().strip("()（）")
            # "辽宁日报记者" + "王坤 侯永锋": the names sit on the next line
            if k + 1 < len(paragraphs) and _ROLE.fullmatch(text) and is_byline(paragraphs[k + 1]):
                text = f"{text} {paragraphs[k + 1].strip()}"
            return text
        m = _DATELINE_CREDIT.search(p[:60])
        if m and _ROLE.search(m.group(1)):
            return m.group(1).strip()
        m = _INLINE_REPORTER.search(p[:60])
        if m:
            return m.group(1).strip()
    for p in reversed(paragraphs[-2:]):
        if is_byline(p) and _ROLE.search(p):
            return p.strip().strip("()（）")
    return None
