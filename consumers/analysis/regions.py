"""Which administrations RUN the measure a story reports, as official Simplified names with adcode
and coordinates.

Gazetteer: cpca's shipped table of 3,511 divisions (adcode, name, lng/lat) read straight from the
installed package, so the names and codes are a maintained public source rather than a hand list.
We do not use cpca's own extraction: it is slow for whole stories, has no notion of *who acts*
and takes ordinary words (合作 -> 甘肃合作市, a bare 县) for places. Instead:

1. Find mentions with one pyahocorasick automaton over every full name and its short forms
   (铁岭市/铁岭, 内蒙古自治区/内蒙古, 莫力达瓦达斡尔族自治旗/莫力达瓦旗/莫力达瓦, 梁平县/梁平区).
   A mention must sit on word boundaries of the shared segmenter (so 中山路, 长治久安, 文山会海,
   王永安 are not places).
2. Resolve names that several divisions share (鼓楼区, 朝阳区, 江北区 …) and county short forms
   (同安, 岳麓, 合作, 东方 …) through their own province/city named elsewhere in the story, then
   the outlet's home region; unresolved ones are dropped.
3. Weigh each mention by its role: a chain prefix (湖南省长沙市岳麓区 counts once, for 岳麓区),
   datelines and outlet names (新华社北京电, 厦门日报讯), former posts (曾任…), comparisons
   (借鉴…经验), delegations (赴…考察) and addresses (…有限公司, …路) weigh nothing; a speaker's
   affiliation (…社区党委书记…说) weighs less; a mention in the title or in a clause with a
   measure verb or noun weighs more.
4. Group mentions by prefecture-level city (or municipality, or province for province-wide
   measures) and pick, per group, the county when a county dominates the group's weight, else
   the city. Groups far below the leading one are places mentioned in passing.
"""

from __future__ import annotations

import csv
import importlib.util
import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from math import inf
from pathlib import Path

import ahocorasick

from consumers.analysis.segment import cut
from consumers.analysis.types import FoundRegion

PROVINCE, CITY, COUNTY = 0, 1, 2
MUNICIPALITIES = frozenset({"110000", "120000", "310000", "500000"})

# Placeholder rows in the table that are not places ("县" under 重庆市, 市辖区 …).
_PLACEHOLDER_NAMES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
# Province short forms that cpca also special-cases: the autonomous regions drop the ethnic part.
_PROVINCE_SHORT = {
    "内蒙古自治区": "内蒙古", "广西壮族自治区": "广西", "西藏自治区": "西藏",
    "新疆维吾尔自治区": "新疆", "宁夏回族自治区": "宁夏", "香港特别行政区": "香港", "澳门特别行政区": "澳门",
}
# Prefecture-level short forms that are also everyday words in news text (来宾 = guests, 安康 =
# well-being, 白银 = silver, 阿里 = Alibaba …): like county short forms they need their province
# named nearby. Judgement list, kept short on purpose; all other city short forms stand alone.
_CITY_SHORT_FORMS_THAT_ARE_WORDS = frozenset({
    "朝阳", "大同", "阿里", "白银", "来宾", "安康", "日照", "长治", "普洱", "红河", "怒江", "玉树",
    "海西", "海东", "海北", "文山", "三明", "开封", "包头", "保山", "中卫", "吉安", "和田", "兴安",
})


_RENAMED_SUFFIXES = {"县": ("区", "市"), "区": ("县",), "市": ("区",)}


@dataclass(frozen=True, slots=True)
class Division:
    adcode: str                 # 6 digits
    name: str
    level: int                  # PROVINCE | CITY | COUNTY
    province: str
    city: str | None
    county: str | None
    lat: float | None
    lon: float | None
    parent: str | None          # adcode of the nearest real parent (None for provinces)
    group: str                  # adcode of the prefecture-level unit it is reported under

    def region(self, score: float = 0.0) -> FoundRegion:
        return FoundRegion(self.province, self.city, self.county, self.adcode, self.lat, self.lon, score)


@dataclass(frozen=True, slots=True)
class Alias:
    adcode: str
    full: bool                  # the official name (or a suffix variant), not a short form
    needs_context: bool         # a short form that is only a place if its province/city is named


@dataclass(slots=True)
class Gazetteer:
    divisions: dict[str, Division]
    automaton: ahocorasick.Automaton
    children: dict[str, list[str]] = field(default_factory=dict)

    def ancestors(self, adcode: str) -> list[str]:
        chain = []
        parent = self.divisions[adcode].parent
        while parent is not None:
            chain.append(parent)
            parent = self.divisions[parent].parent
        return chain


def _cpca_resource(name: str) -> Path:
    """Path of a data file shipped inside the cpca package, found without importing cpca (its import
    builds its own automaton and needs pkg_resources)."""
    spec = importlib.util.find_spec("cpca")
    if spec is None or spec.origin is None:
        raise RuntimeError("cpca is not installed: it ships the gazetteer regions.py reads")
    return Path(spec.origin).parent / "resources" / name


def _level(adcode: str) -> int:
    if adcode.endswith("0000"):
        return PROVINCE
    return CITY if adcode.endswith("00") else COUNTY


def _strip_ethnic(name: str, suffix: str, nations: Iterable[str]) -> str:
    """融水苗族自治县 -> 融水, 湘西土家族苗族自治州 -> 湘西, 莫力达瓦达斡尔族自治旗 -> 莫力达瓦."""
    if not name.endswith(suffix):
        return name
    stem = name[: -len(suffix)]
    changed = True
    while changed:
        changed = False
        for nation in nations:
            if stem.endswith(nation) and len(stem) > len(nation):
                stem, changed = stem[: -len(nation)], True
        # nation names written without 族 in the list; only once no listed name matches, or
        # 黔东南苗族侗族 would lose 侗族 and then the 族 of 苗族 before 苗族 is tried (黔东南苗)
        if not changed and stem.endswith("族") and len(stem) > 3:
            stem, changed = stem[:-1], True
    return stem


def _short_forms(division: Division, nations: list[str]) -> tuple[list[str], list[str]]:
    """(extra full-strength names, short forms) for one division."""
    name = division.name
    extra_full: list[str] = []
    short: list[str] = []
    if division.level == PROVINCE:
        short.append(_PROVINCE_SHORT.get(name) or re.sub("(省|市|特别行政区|自治区)$", "", name))
    elif division.level == CITY:
        if name.endswith("自治州"):
            stem = _strip_ethnic(name, "自治州", nations)
            short.append(stem)
            extra_full.append(stem + "州")                     # 湘西州, 恩施州
        else:
            short.append(re.sub("(市|地区|盟)$", "", name))
    else:
        for suffix, marker in (("自治县", "县"), ("自治旗", "旗")):
            if name.endswith(suffix):
                stem = _strip_ethnic(name, suffix, nations)
                short.append(stem)
                extra_full.append(stem + marker)             # 融水县, 莫力达瓦旗
                break
        else:
            match = re.fullmatch(r"(.{2,})(县|区|市|旗|林区|特区)", name)
            if match:
                stem, suffix = match.groups()
                short.append(stem)
                # Renamings since the table was cut: counties made districts or cities (梁平县 ->
                # 梁平区, 宁乡县 -> 宁乡市), county-level cities made districts (九台市 -> 九台区).
                extra_full.extend(stem + other for other in _RENAMED_SUFFIXES.get(suffix, ()))
    return extra_full, [s for s in short if len(s) >= 2 and s != name]


@cache
def gazetteer() -> Gazetteer:
    """Load cpca's division table and build the mention automaton (once per process, ~30 ms)."""
    nations = [line.strip() for line in _cpca_resource("56_nations.csv").read_text("utf-8").splitlines()]
    # longest first, then by name: set order changes with the hash seed, the short forms must not
    nations = sorted({n for n in nations if n} | {n[:-1] for n in nations if n.endswith("族") and len(n) > 2},
                     key=lambda n: (-len(n), n))
    rows: dict[str, tuple[str, float | None, float | None]] = {}
    with _cpca_resource("adcodes.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            lon = float(row["longitude"]) if row["longitude"] else None
            lat = float(row["latitude"]) if row["latitude"] else None
            rows[row["adcode"][:6]] = (row["name"], lat, lon)

    def real(adcode: str) -> bool:
        return adcode in rows and rows[adcode][0] not in _PLACEHOLDER_NAMES

    divisions: dict[str, Division] = {}
    for adcode, (name, lat, lon) in rows.items():
        if not real(adcode):
            continue
        level = _level(adcode)
        province_code = adcode[:2] + "0000"
        city_code = adcode[:4] + "00"
        province = rows[province_code][0]
        if level == PROVINCE:
            parent, group, city, county = None, adcode, None, None
        elif level == CITY:
            parent, group, city, county = province_code, adcode, name, None
        elif real(city_code):
            parent, group, city, county = city_code, city_code, rows[city_code][0], name
        else:   # districts of municipalities, county-level cities directly under a province
            parent, city, county = province_code, None, name
            group = province_code if province_code in MUNICIPALITIES else adcode
        divisions[adcode] = Division(adcode, name, level, province, city, county, lat, lon, parent, group)

    aliases: dict[str, list[Alias]] = defaultdict(list)
    taken_full = {d.name for d in divisions.values()}
    for division in divisions.values():
        # Two-character county names (和县, 南县, 城区, 郊区) are also ordinary words or word ends
        # (市和县两级, 湖南县域): they need their city named too.
        short_full_name = division.level == COUNTY and len(division.name) == 2
        aliases[division.name].append(Alias(division.adcode, full=True, needs_context=short_full_name))
        extra_full, short = _short_forms(division, nations)
        for name in extra_full:
            if name not in taken_full:
                aliases[name].append(Alias(division.adcode, full=True, needs_context=division.level == COUNTY
                                           and name[-1] in "县区市"))
        for name in short:
            needs_context = division.level == COUNTY or name in _CITY_SHORT_FORMS_THAT_ARE_WORDS
            aliases[name].append(Alias(division.adcode, full=False, needs_context=needs_context))

    automaton = ahocorasick.Automaton()
    for name, entries in aliases.items():
        automaton.add_word(name, (name, tuple(entries)))
    automaton.make_automaton()
    children: dict[str, list[str]] = defaultdict(list)
    for division in divisions.values():
        if division.parent:
            children[division.parent].append(division.adcode)
    return Gazetteer(divisions, automaton, dict(children))


# ----------------------------------------------------------------------------------------------
# Mentions
# ----------------------------------------------------------------------------------------------

_CLAUSE_END = re.compile(r"[，,。！？!?；;：:\n]")
_SENTENCE_END = re.compile(r"[。！？!?；;\n]")
_PARAGRAPH_END = re.compile(r"\n")
# After a full name ending in 市/区/县/省, the next token may start with that suffix character when
# it is an organ of that administration (鄂州/市委, 岳麓区/委): the name still ends there.
_ORGAN_AFTER_SUFFIX = re.compile(r"^[省市区县州旗](委|政府|直|纪委|属|级|人大|政协|长)")
# Role of a mention, read from the words right around it.
_DATELINE = re.compile(r"(社|报|台|网|端)(记者[^\s，,（(]{0,12})?$")                 # 新华社北京…电
_DATELINE_AFTER = re.compile(r"^\s*(\d{1,2}月\d{1,2}日)?(电|讯)")
_OUTLET_AFTER = re.compile(
    r"^(日报|晚报|早报|商报|都市报|广播电视台|电视台|新闻网|新闻|融媒|发布|网|卫视|客户端|"
    r"[\u4e00-\u9fff]{0,3}报(?=[讯社道业\s，,。（(）)]|$))")               # 香港文汇报讯, 广州报道
# A place name that starts the name of a street, road or neighbourhood (越秀区北京街道, 北京路).
_SUBUNIT_AFTER = re.compile(r"^(街道|路|大街|大道|街|镇|乡|村|社区|小区|公园|广场|胡同|巷)")
_ADDRESS_AFTER = re.compile(
    r"^[^，,。；;、\s]{0,12}?(有限公司|公司|集团|大学|学院|医院|银行|机场|火车站|高铁站|大厦|商场|酒店|宾馆|工业园|产业园|"
    r"中学|小学)(?![路街道])|^[^，,。；;、\s]{0,8}?路\d+号")
_PASSING_BEFORE = re.compile(
    r"(曾任|曾在|历任|原任|曾担任|此前任|调任|出生于|生于|籍贯|毕业于|来自|借鉴|学习借鉴|学习|参照|对标|效仿|赴|前往|远赴|"
    r"到访|参观|考察|对口支援|援建|对口帮扶|比如|例如|如同|像)[^，,。；;]{0,10}$")
_PASSING_AFTER = re.compile(r"^[^，,。；;]{0,14}?(经验|做法|模式|考察|学习|调研|参观|取经|交流|的先进|等地)")
_SPEAKER_AFTER = re.compile(
    r"^[^，,。；;“”\"]{0,24}?(书记|主任|委员|负责人|干部|局长|部长|科长|所长|站长|社长|区长|县长|市长|镇长|乡长|"
    r"村民|居民|群众|工作人员|网格员|民警|职工|代表)")
_PERSON_BEFORE = re.compile(r"(记者|通讯员|编辑|摄影|作者|实习生)\s*$")
_PERSON_AFTER = re.compile(r"^(说|表示|介绍|认为|指出|告诉|坦言|笑着|谈到|感慨)")
# Words that say the administration is doing something (the actor) or what it is doing.
_ACTION_AFTER = re.compile(
    r"^[^，,。；;]{0,6}?(出台|印发|下发|制定|制发|开展|推行|推出|推进|建立|实施|探索|明确|要求|规定|部署|启动|坚持|聚焦|"
    r"持续|通过|坚决|积极|全面|创新|率先|大力|着力|深入|清理|精简|整合|取消|撤并|合并|压减|压缩|减少|关停|注销|"
    r"整治|规范|叫停|梳理|为基层|减负|共|累计|已)")
_MEASURE_CUES = re.compile(
    r"工作群|微信群|QQ群|政务APP|政务App|APP|App|小程序|公众号|账号|微博|网站|新媒体|打卡|留痕|截图|会议|文件|发文|"
    r"督查|检查|考核|评比|表彰|专班|报表|台账|填报|表格|一表通|减负|形式主义|精简|清理|压减|整合|撤并|取消|注销")
# The outlet's own administration, unnamed: 我市, 本县, and (in a provincial or city paper) its
# organs written without a name: 省委办公厅印发…, 市政府出台….
# What an unnamed organ (省委, 市政府) must be doing to be the actor rather than a reference.
_ORGAN_ACTION_AFTER = re.compile(r"^[^，,。；;]{0,8}?(印发|出台|下发|制定|制发|推出|发布|开展|要求)")
_HOME_MENTION = re.compile(
    r"(?:[我本](?P<own>[省市州县区旗]))|(?P<organ>[省市州县区旗])(?=委|政府|纪委)|全(?P<whole>[省市州县区旗])(?![委长级])")


@dataclass(slots=True)
class Mention:
    start: int
    end: int
    candidates: tuple[Alias, ...]
    adcode: str | None = None           # resolved division
    weight: float = 1.0
    in_title: bool = False
    organ_only: bool = False            # 省委/市政府 without a name: the outlet's home administration
    home_words: bool = False            # 我市/本县: the outlet's home administration
    home_scope: bool = False            # 全市/全区 in the outlet's own paper: its territory, a weak sign


def _token_bounds(text: str) -> tuple[set[int], dict[int, str]]:
    """Start offsets of tokens (plus the text end) and the token starting at each offset."""
    starts: set[int] = set()
    token_at: dict[int, str] = {}
    offset = 0
    for token in cut(text):
        starts.add(offset)
        token_at[offset] = token
        offset += len(token)
    starts.add(offset)
    return starts, token_at


def _on_word_boundaries(text: str, start: int, end: int, full: bool, bounds: tuple[set[int], dict[int, str]]) -> bool:
    starts, token_at = bounds
    if start not in starts:
        return False
    if end in starts:
        return True
    # 鄂州市委: the segmenter keeps 市委 whole, but 鄂州市 is still the name.
    return full and (end - 1) in starts and bool(_ORGAN_AFTER_SUFFIX.match(token_at[end - 1]))


def _find_raw_mentions(text: str) -> list[Mention]:
    """Every gazetteer name on word boundaries, leftmost-longest, as unresolved mentions."""
    gaz = gazetteer()
    found: list[tuple[int, int, str, tuple[Alias, ...]]] = []
    for last, (name, entries) in gaz.automaton.iter(text):
        found.append((last - len(name) + 1, last + 1, name, entries))
    if not found:
        return []
    bounds = _token_bounds(text)
    token_starts = bounds[0]
    found.sort(key=lambda m: (m[0], -(m[1] - m[0])))
    mentions: list[Mention] = []
    taken_until = 0
    for start, end, _name, entries in found:
        if start < taken_until or start not in token_starts:
            continue
        full_entries = tuple(a for a in entries if a.full)
        usable = entries if _on_word_boundaries(text, start, end, False, bounds) else full_entries
        if not usable or not _on_word_boundaries(text, start, end, bool(full_entries), bounds):
            continue
        if not any(a.full for a in usable) and (
            _PERSON_BEFORE.search(text, max(0, start - 6), start) or _PERSON_AFTER.match(text, end)
        ):
            continue        # 记者黄山报道, 王永安说: a person's name
        mentions.append(Mention(start, end, usable))
        taken_until = end
    return mentions


# ----------------------------------------------------------------------------------------------
# Resolution: which division each mention is
# ----------------------------------------------------------------------------------------------


def _home_codes(home_region: dict | None) -> list[str]:
    """The home region's adcode and its ancestors, most specific first ([] if unknown)."""
    if not home_region or not home_region.get("adcode"):
        return []
    adcode = str(home_region["adcode"])[:6]
    gaz = gazetteer()
    if adcode not in gaz.divisions:
        return []
    return [adcode, *gaz.ancestors(adcode)]


def _pick(mention: Mention, previous: Mention | None, context: dict[str, float], home: list[str]) -> str | None:
    """The division a mention names, or None when the story does not say which one it is."""
    gaz = gazetteer()
    codes = {a.adcode for a in mention.candidates}
    # A short form shared by a city and one of its own counties (铁岭: 铁岭市, 铁岭县) is the city;
    # the county would have been written in full.
    candidates = [a for a in mention.candidates
                  if not (a.needs_context and codes.intersection(gaz.ancestors(a.adcode)))]
    if previous is not None and previous.adcode and previous.end == mention.start:
        # A chain such as 湖南省长沙市岳麓区: the name right before is the parent.
        chained = [a for a in candidates if previous.adcode in gaz.ancestors(a.adcode)]
        if len({a.adcode for a in chained}) == 1:
            return chained[0].adcode

    def support(alias: Alias) -> float:
        """How much the rest of the story points at this division: its province/city named, or
        (for a short form such as 同安) the division itself named in full. A county short form
        (同安, 岳麓, 振兴, 凤凰) needs its own city: its province alone is too weak a hint."""
        own = context.get(alias.adcode, 0.0) if not alias.full else 0.0
        ancestors = gaz.ancestors(alias.adcode)
        if alias.needs_context and gaz.divisions[alias.adcode].level == COUNTY:
            ancestors = ancestors[:1]
        return own + sum(context.get(code, 0.0) for code in ancestors)

    scored = [(support(a), a) for a in candidates]
    best = max((score for score, _ in scored), default=0.0)
    if best > 0:
        candidates = [a for score, a in scored if score == best]
        if len({a.adcode for a in candidates}) == 1:
            return candidates[0].adcode
    else:
        for code in home:   # the outlet's own city, then its province
            at_home = [a for a in candidates if code == a.adcode or code in gaz.ancestors(a.adcode)]
            if len({a.adcode for a in at_home}) == 1:
                return at_home[0].adcode
            if at_home:
                candidates = at_home
                break
        else:
            candidates = [a for a in candidates if not a.needs_context]
    if not candidates:
        return None
    highest = min(gaz.divisions[a.adcode].level for a in candidates)
    top = {a.adcode for a in candidates if gaz.divisions[a.adcode].level == highest}   # 吉林: the province
    return next(iter(top)) if len(top) == 1 else None


def _resolve(mentions: list[Mention], home: list[str]) -> None:
    """Set `adcode` on every mention that can be pinned down, using the unambiguous ones as context."""
    context: dict[str, float] = defaultdict(float)
    for mention in mentions:
        codes = {a.adcode for a in mention.candidates}
        if len(codes) == 1 and not mention.candidates[0].needs_context:
            mention.adcode = next(iter(codes))
            context[mention.adcode] += 1.0
    for _ in range(2):          # a resolved ambiguous name can settle another one
        previous: Mention | None = None
        for mention in mentions:
            if mention.adcode is None:
                mention.adcode = _pick(mention, previous, context, home)
                if mention.adcode:
                    context[mention.adcode] += 1.0
            previous = mention


# ----------------------------------------------------------------------------------------------
# Roles: how much each mention says "this administration runs the measure"
# ----------------------------------------------------------------------------------------------

TITLE_WEIGHT = 3.0
ACTION_WEIGHT = 1.5        # followed by what it does: 鄂州市出台…, 岳麓区共合并…
MEASURE_SENTENCE_WEIGHT = 1.5   # the sentence speaks of a measure (清理, 工作群, 督查 …)
MEASURE_PARAGRAPH_WEIGHT = 1.2  # only the paragraph does
SPEAKER_WEIGHT = 0.6       # …社区党委书记戴辉说: where a speaker works, a weaker sign of who acts
MIN_SHARE_OF_LEADER = 0.2  # a group weaker than this share of the leading one was mentioned in passing
MIN_ACTOR_WEIGHT = 1.0     # only passing, quoted or speaker mentions name no actor
HOME_SCOPE_WEIGHT = 0.7    # 全市共清理…: the outlet's territory, weaker than a named actor


class _Breaks:
    """Offsets of clause, sentence or paragraph breaks in a text, for O(log n) bounds lookups."""

    def __init__(self, text: str, pattern: re.Pattern[str]) -> None:
        self.positions = [m.start() for m in pattern.finditer(text)]
        self.length = len(text)

    def bounds(self, start: int, end: int) -> tuple[int, int]:
        """[left, right) of the unit holding text[start:end] (a break inside it is ignored)."""
        before = bisect_left(self.positions, start)
        left = self.positions[before - 1] + 1 if before else 0
        after = bisect_left(self.positions, end)
        right = self.positions[after] if after < len(self.positions) else self.length
        return left, right


def _quoted_name(text: str, start: int, end: int) -> bool:
    """True inside a short quoted name that is more than the place (“看苍南”客户端, “诺必行”): a
    brand, app or slogan, not the administration acting."""
    open_quote = text.rfind("“", max(0, start - 10), start + 1)
    if open_quote < 0 or "”" in text[open_quote:start]:
        return False
    close_quote = text.find("”", end, end + 10)
    return close_quote >= 0 and (close_quote - open_quote - 1) > (end - start)


def _weigh(text: str, mentions: list[Mention], title_length: int) -> None:
    """Set each mention's weight from the words around it (see the module docstring)."""
    gaz = gazetteer()
    clauses, sentences, paragraphs = (_Breaks(text, p) for p in (_CLAUSE_END, _SENTENCE_END, _PARAGRAPH_END))
    chain_start: int | None = None
    for index, mention in enumerate(mentions):
        start, end = mention.start, mention.end
        previous = mentions[index - 1] if index else None
        chained = previous is not None and previous.end == start and previous.adcode and mention.adcode and (
            previous.adcode in gaz.ancestors(mention.adcode))
        chain_start = chain_start if chained and chain_start is not None else start
        following = mentions[index + 1] if index + 1 < len(mentions) else None
        if following is not None and following.start == end and following.adcode and mention.adcode and (
            mention.adcode in gaz.ancestors(following.adcode)
        ):
            mention.weight = 0.0          # 湖南省长沙市岳麓区: only the last link is the actor
            continue
        before = text[max(0, chain_start - 16):chain_start]
        after = text[end:end + 30]
        if (_DATELINE.search(before) and _DATELINE_AFTER.match(after)) or _OUTLET_AFTER.match(after) or (
            _SUBUNIT_AFTER.match(after)
        ):
            mention.weight = 0.0          # 新华社北京1月30日电, 厦门日报讯, 北京街道
            continue
        clause_start, clause_end = clauses.bounds(chain_start, end)
        before_in_clause = text[clause_start:chain_start]
        after_in_clause = text[end:clause_end]
        if _PASSING_BEFORE.search(before_in_clause) or _PASSING_AFTER.match(after_in_clause) or (
            _ADDRESS_AFTER.match(after_in_clause) or _quoted_name(text, start, end)
        ):
            mention.weight = 0.0          # 曾任…, 借鉴…经验, 赴…考察, …有限公司, “看苍南”
            continue
        if mention.organ_only and not _ORGAN_ACTION_AFTER.match(after_in_clause):
            mention.weight = 0.0          # 凡中央和省委文件已作部署的: a reference, not an act
            continue
        weight = 1.0
        if _SPEAKER_AFTER.match(after_in_clause) and not _ACTION_AFTER.match(after_in_clause):
            weight *= SPEAKER_WEIGHT
        elif _ACTION_AFTER.match(after_in_clause) or before_in_clause.endswith(("在", "由")) or (
            not after_in_clause.strip() and text.startswith("当地", clause_end + 1)
        ):
            weight *= ACTION_WEIGHT       # 鄂州市出台…, 在蒙阴县，当地建立…
        sentence_start, sentence_end = sentences.bounds(start, end)
        paragraph_start, paragraph_end = paragraphs.bounds(start, end)
        if _MEASURE_CUES.search(text, sentence_start, sentence_end):
            weight *= MEASURE_SENTENCE_WEIGHT
        elif _MEASURE_CUES.search(text, paragraph_start, paragraph_end):
            weight *= MEASURE_PARAGRAPH_WEIGHT
        if start < title_length:
            weight *= TITLE_WEIGHT
            mention.in_title = True
        if mention.home_scope:
            weight *= HOME_SCOPE_WEIGHT
        mention.weight = weight


# The outlet's own reporting: its dateline (本报讯, 本报记者, 本台消息) at the start of the story.
_OWN_REPORT = re.compile(r"本(报|台|网)([\u4e00-\u9fff]{0,4}讯|记者|消息)")
_OWN_REPORT_WITHIN = 60


# A newspaper named after its region (湖北日报讯, 来源：长春日报): the segmenter keeps such names
# whole, so they are read here rather than from the gazetteer mentions.
_NEWSPAPER = re.compile(r"(?<![\u4e00-\u9fff])([\u4e00-\u9fff]{2,6}?)(?:日报|晚报|早报|都市报)")


def _outlet_home(text: str) -> list[str]:
    """The home region of the first regional newspaper named in the text, as _home_codes gives it."""
    gaz = gazetteer()
    for match in _NEWSPAPER.finditer(text):
        found = gaz.automaton.get(match.group(1), None)
        if found is None:
            continue
        aliases = [a for a in found[1] if not a.needs_context]
        if len({a.adcode for a in aliases}) == 1:
            return [aliases[0].adcode, *gaz.ancestors(aliases[0].adcode)]
    return []


def _home_mentions(text: str, home: list[str], named: list[Mention]) -> list[Mention]:
    """我市/本县/省委…: the outlet's own administration at the level the words name. Organs right
    after a name (铁岭市委) belong to that name's mention, not to the home region."""
    if not home:
        return []
    gaz = gazetteer()
    by_level = {gaz.divisions[code].level: code for code in home}
    province = home[-1]
    level_of = {"省": PROVINCE, "市": CITY, "州": CITY, "县": COUNTY, "区": COUNTY, "旗": COUNTY}
    taken = [(m.start, m.end) for m in named]
    found = []
    for match in _HOME_MENTION.finditer(text):
        start, end = match.span()
        if any(s < end and start < e for s, e in taken):
            continue
        if match.group("whole") and any(m.adcode and m.end <= start for m in named):
            continue        # 铁岭市…全市: the territory of the place just named, not the outlet's
        if match.group("organ") and start > 0 and text[start - 1] not in "，,。；;：:、（(“\"\n 和及与的在由":
            continue        # 区委报道组 after a name the gazetteer does not know, 全市委员 …
        word = match.group("own") or match.group("organ") or match.group("whole")
        level = level_of[word]
        code = by_level.get(level)
        if code is None and level == CITY and province in MUNICIPALITIES:
            code = province                # 我市 in a Chongqing paper
        if code is None:
            continue
        found.append(Mention(start, end, (Alias(code, full=True, needs_context=False),), adcode=code,
                             organ_only=bool(match.group("organ")), home_words=bool(match.group("own")),
                             home_scope=bool(match.group("whole"))))
    return found


# ----------------------------------------------------------------------------------------------
# Groups: one reported region per prefecture-level unit (or municipality, or province)
# ----------------------------------------------------------------------------------------------


def _choose_regions(mentions: list[Mention]) -> list[FoundRegion]:
    gaz = gazetteer()
    group_weight: dict[str, float] = defaultdict(float)
    division_weight: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    first_seen: dict[str, int] = {}
    named_in_title: dict[str, float] = {}
    for mention in mentions:
        if not mention.adcode or mention.weight <= 0:
            continue
        division = gaz.divisions[mention.adcode]
        group_weight[division.group] += mention.weight
        division_weight[division.group][division.adcode] += mention.weight
        first_seen.setdefault(division.group, mention.start)
        if mention.in_title and not (mention.organ_only or mention.home_words or mention.home_scope):
            named_in_title.setdefault(division.group, mention.start)
    if not group_weight or max(group_weight.values()) < MIN_ACTOR_WEIGHT:
        return []
    leader = max(group_weight.values())
    total = sum(group_weight.values())
    chosen: list[tuple[float, float, int, Division]] = []
    for group, weight in group_weight.items():
        if weight < MIN_SHARE_OF_LEADER * leader:
            continue
        weights = division_weight[group]
        head = weights.get(group, 0.0)
        counties = [(w, code) for code, w in weights.items() if code != group]
        best_county_weight, best_county = max(counties, default=(0.0, None))
        # The county runs it when it carries at least as much weight as its city does.
        actor = best_county if best_county and best_county_weight >= head else group
        chosen.append((named_in_title.get(group, inf), -weight, first_seen[group], gaz.divisions[actor]))
    # Places the headline names come first, in headline order (宁波鄞州、诸暨两地…); then by weight.
    chosen.sort(key=lambda item: item[:3])
    return [division.region(round(-neg_weight / total, 3)) for _, neg_weight, _, division in chosen]


def detect_regions(
    title: str,
    text: str,
    home_region: dict | None = None,
    relevant_measures: list[str] | None = None,
) -> list[FoundRegion]:
    """The administrations that run the measure the story reports, most important first (province-
    wide ones after more specific ones); [] for national stories and stories naming no place.

    `title` and `text` are Simplified; `home_region` is the outlet's home ({province, city, adcode}),
    used to settle names shared by several places and for 我市/本县. `relevant_measures` is accepted
    for the pipeline's call shape; measure words of every kind already raise a mention's weight.
    """
    del relevant_measures   # every measure cue counts (see _MEASURE_CUES); kept for the contract
    combined = f"{title}\n{text}" if title else text
    title_length = len(title) + 1 if title else 0
    home = _home_codes(home_region)
    mentions = _find_raw_mentions(combined)
    _resolve(mentions, home)
    if not home:
        # No source metadata: the outlet named in the text (湖北日报讯, 来源：长春日报) is the home.
        home = _outlet_home(combined)
        if home:
            for mention in mentions:
                mention.adcode = None
            _resolve(mentions, home)
    mentions.extend(_home_mentions(combined, home, mentions))
    mentions.sort(key=lambda m: m.start)
    _weigh(combined, mentions, title_length)
    chosen = _choose_regions(mentions)
    if not chosen and home and home_region and _OWN_REPORT.search(combined, 0, _OWN_REPORT_WITHIN + title_length):
        # The paper's own reporting (本报讯) about an actor it does not name, or names in a way the
        # gazetteer does not know (两江新区, 高新区): its own region is the best answer there is.
        chosen = [gazetteer().divisions[home[0]].region(0.0)]
    return chosen
