"""Key quantities of a burden-reduction story: "取消、合并不必要的微信工作群746个", "减少27.5%",
"从127个,减少到16个", each with the exact substring it comes from.

Numbers are found by `numbers.find_quantities` (numerals, magnitudes, 余/近/左右, %, 三分之一, 七成).
A quantity becomes a figure only when its clause is about a measure: the clause (or, for the items
of a list such as "微博5个、网站22家", the list's first clause) names a measure object (工作群, 政务APP,
公众号, 会议, 文件, 督查, 专班, 报表, 台账, 事项 …) or a reduction (减少, 压减, 精简, 清理, 撤并 …).
Money, ages, distances and weights are never figures; caps written as rules (可建3个以下, 不超过10个)
are not results.

"由原来的96种精简为27种" is one change: the after value (27) is the main figure, spanning the
whole phrase, and the before value (96) follows it as its own figure.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

from consumers.analysis.numbers import Quantity, find_quantities
from consumers.analysis.types import FoundFigure

# Measure objects, longest first within each measure, mapped to the fixed measure vocabulary.
MEASURE_OBJECTS: dict[str, tuple[str, ...]] = {
    "work_groups": ("微信工作群", "QQ工作群", "工作群", "微信群", "QQ群", "政务群", "僵尸群", "群聊", "群组", "群"),
    "gov_apps": ("政务APP", "政务App", "政务app", "APP", "App", "app", "小程序", "应用程序", "政务应用", "客户端",
                 "应用", "系统", "平台"),
    "public_accounts": ("政务新媒体", "新媒体", "公众号", "视频号", "账号", "微博", "网站", "头条号", "抖音号"),
    "check_ins": ("打卡", "留痕", "截图", "晒照片", "拍照", "积分排名", "在线时长", "排名"),
    "meetings_documents": ("会议", "文件", "发文", "开会", "简报", "材料", "发文量", "陪会"),
    "inspections": ("督查检查考核", "督检考", "督查", "检查", "考核", "评比", "表彰", "创建示范", "示范创建",
                    "创建", "暗访", "调研", "指标"),
    "task_forces": ("工作专班", "专班", "领导小组", "议事协调机构", "指挥部", "抽调", "借调"),
    "forms_reports": ("一表通", "报表", "表格", "台账", "填报", "数据项", "报送", "统计表"),
    "other": ("事项", "证明", "牌子", "挂牌", "任务", "频次", "责任状", "一票否决", "入户", "时间"),
}
_OBJECT_TO_MEASURE = {word: measure for measure, words in MEASURE_OBJECTS.items() for word in words}
# 群 alone is a group chat, but not in 群众/群体/人群.
_OBJECT_RE = re.compile("|".join(
    "(?<!人)群(?![众体])" if word == "群" else re.escape(word)
    for word in sorted(_OBJECT_TO_MEASURE, key=len, reverse=True)))

REDUCTION_VERBS = (
    "减少", "压减", "压缩", "精简", "清理", "取消", "合并", "撤并", "撤销", "关停", "注销", "整合", "解散", "下降",
    "缩减", "缩短", "削减", "减", "降", "砍", "删减", "叫停", "停用", "下线", "退出", "保留", "撤除", "摘除",
    "摘牌", "规范", "瘦身", "清退", "归并", "迁移", "入驻", "减负", "释放", "节省", "剩下", "只剩", "仅剩",
)
_REDUCTION_RE = re.compile("|".join(sorted(REDUCTION_VERBS, key=len, reverse=True)))
# A reduction verb followed by "to" just before the second number: 从127个,减少到16个, 由96种精简为27种.
_BEFORE_AFTER_RE = re.compile(rf"({_REDUCTION_RE.pattern}|整合|合并|调整|变)[了]?(到|至|为|成)了?[^，,。；;]{{0,7}}$")

# Units that are never figures of a burden-reduction measure.
_EXCLUDED_UNITS = frozenset({"元", "万元", "亿元", "岁", "吨", "米", "公里", "平方公里", "亩", "倍"})
# Caps stated as rules, not results: 可建3个以下工作群, 不超过10个, 控制在5个以内.
_CAP_BEFORE = re.compile(r"(不超过|不得超过|不超|最多|至多|少于|不多于|控制在|限定在|可建|可设|只能建|最高)$")
_CAP_AFTER = re.compile(r"^(以内|之内)")

# Clause punctuation, except a comma inside a number (1,300个) and a colon in a time (9:00).
_CLAUSE_BREAK = re.compile(r"[；;。！？!?\n、]|(?<!\d)[，,:：]|[，,:：](?!\d)")
# Leading words that tell when or who, not what (目前已经…, 截至目前全区共…).
_LEADING_FILLER = re.compile(
    r"^(?:截至目前|截至|目前|今年以来|近年来|近期|此外|同时|其中|另外|此前|经过[^，,]{0,6}|通过[^，,]{0,10}|"
    r"全[区市县省州旗镇乡]|[^，,]{0,6}?(?:区|市|县|镇|乡|街道|社区|村)共|累计|共计|合计|总计|共|已经|已|先后|还|并|"
    r"平均|分别|再|又)+")
_WHAT_MAX = 24


@dataclass(slots=True)
class _Clause:
    start: int
    end: int
    list_head: int | None = None     # start of the clause this list item continues (微博5个 after 公众号31个)


def _clauses(text: str) -> list[_Clause]:
    """Clauses between punctuation; "、" also ends a clause when a quantity ends right before it, so
    the items of "公众号31个、微博5个、网站22家" are separate clauses that remember their list head."""
    clauses: list[_Clause] = []
    start = 0
    head: int | None = None
    for match in _CLAUSE_BREAK.finditer(text):
        end = match.start()
        if match.group() == "、":
            segment = text[start:end]
            if not re.search(r"(\d|[个家项张本次场件类种块份条名%％])$", segment):
                continue
            clauses.append(_Clause(start, end, head))
            head = head if head is not None else start
        else:
            clauses.append(_Clause(start, end, head))
            head = None
        start = match.end()
    clauses.append(_Clause(start, len(text), head))
    return [c for c in clauses if c.end > c.start]


def _is_cap(text: str, quantity: Quantity, clause_start: int) -> bool:
    if quantity.approx == "以下":
        return True
    # The quantity may have taken 超过 as its approximation: 不超过1小时 is still a cap.
    before = text[clause_start:quantity.start] + (quantity.approx or "")[:2]
    return bool(_CAP_BEFORE.search(before) or _CAP_BEFORE.search(text[clause_start:quantity.start])
                or _CAP_AFTER.match(text, quantity.end))


def _is_trivial_one(text: str, quantity: Quantity) -> bool:
    """一个/两个 written in words are articles more than counts (可建一个工作群, 统一汇总成一张表)."""
    return text[quantity.start] in "一两" and quantity.value <= 2 and quantity.unit != "%"


def _what(text: str, start: int, end: int) -> str:
    """A short description of what was counted: the clause's words before the number, without
    leading time/subject fillers and the function words around the number."""
    words = text[start:end].strip(" \u3000“”\"‘’（）()")
    words = _LEADING_FILLER.sub("", words)
    # "…两级机关共取消、合并…": the subject before 共/累计/已 + verb is who, not what.
    verb = _REDUCTION_RE.search(words)
    if verb:
        adverb = re.search(r"(共|累计|总计|合计|已经|已|先后|还|同步|集中|陆续)$", words[:verb.start()])
        if adverb:
            words = words[verb.start():]
    words = re.sub(r"(不必要的|的|了|有|达|为|到|至|由|从|将|把)$", "", words)
    words = re.sub(r"(不必要的|了)", "", words)
    return words[:_WHAT_MAX].strip()


def _measure_of(*texts: str) -> str | None:
    for piece in texts:
        match = _OBJECT_RE.search(piece)
        if match:
            return _OBJECT_TO_MEASURE[match.group()]
    return None


def _leading_verb(what: str) -> str:
    match = re.match(rf"^((?:{_REDUCTION_RE.pattern})(?:[、和及](?:{_REDUCTION_RE.pattern}))*)", what)
    return match.group(1) if match else ""


# Past or personal states told in passing, not results: “过去手机里有60多个群”, 我只加了6个.
_ANECDOTE = re.compile(r"我|以前|过去|原来|曾经|手机里|手机上|每天|每周|每月")


def _enclosing(text: str, position: int, opening: str, closing: str, reach: int = 300) -> bool:
    """True when `position` lies between an `opening` mark and its `closing` mark."""
    left = text.rfind(opening, max(0, position - reach), position)
    if left < 0 or closing in text[left:position]:
        return False
    return text.find(closing, position, position + reach) >= 0


def _title_end(text: str) -> int:
    """Length of a leading headline line (no sentence punctuation), 0 if the text has none."""
    first_line, newline, _ = text.partition("\n")
    if newline and len(first_line) <= 80 and not re.search("[。！？]", first_line):
        return len(first_line)
    return 0


@dataclass(slots=True)
class _Candidate:
    quantity: Quantity
    before: Quantity | None          # the value before a change (由96种精简为27种: 96)
    span_start: int
    what: str
    measure: str | None
    rank: int                        # how much the clause looks like a reported result


def _within(quantities: list[Quantity], starts: list[int], start: int, end: int) -> list[Quantity]:
    """The quantities lying wholly inside text[start:end] (`starts` is their sorted start offsets)."""
    first = bisect_left(starts, start)
    last = bisect_left(starts, end)
    return [q for q in quantities[first:last] if q.end <= end]


def _candidates(text: str, only_measure: str | None) -> list[_Candidate]:
    clauses = _clauses(text)
    clause_at = {c.start: c for c in clauses}
    title_end = _title_end(text)
    all_quantities = find_quantities(text)          # once: clause by clause costs ~5x more
    starts = [q.start for q in all_quantities]
    found: list[_Candidate] = []
    for index, clause in enumerate(clauses):
        quantities = _within(all_quantities, starts, clause.start, clause.end)
        if not quantities:
            continue
        # 从127个,减少到16个: the "to" part may sit in the next clause.
        span_start = clause.start
        if index > 0 and _BEFORE_AFTER_RE.search(text[clause.start:quantities[0].start]):
            previous = clauses[index - 1]
            earlier = _within(all_quantities, starts, previous.start, previous.end)
            if earlier and text[earlier[-1].end:clause.start].strip("，, ") == "":
                quantities = [earlier[-1], *quantities]
                span_start = previous.start
                # The previous clause's number is now the "before" of this change, not a figure.
                found = [c for c in found if c.quantity.start != earlier[-1].start]
        head = clause_at.get(clause.list_head) if clause.list_head is not None else None
        context = text[span_start:clause.end]
        head_text = text[head.start:head.end] if head else ""
        has_verb = bool(_REDUCTION_RE.search(context) or (head and _REDUCTION_RE.search(head_text)))
        has_object = bool(_OBJECT_RE.search(context) or (head and _OBJECT_RE.search(head_text)))
        if not (has_verb or has_object):
            continue
        pairs = _pair_before_after(text, quantities)
        befores = {id(b) for b in pairs.values()} | _parts_of_total(text, quantities)
        for quantity in quantities:
            if id(quantity) in befores or quantity.unit in _EXCLUDED_UNITS or _is_cap(text, quantity, span_start):
                continue
            if _enclosing(text, quantity.start, "《", "》", reach=60):
                continue                    # a number in a document title: 《…十条》
            before = pairs.get(id(quantity))
            if _is_trivial_one(text, quantity) and before is None:
                continue
            anecdote = _enclosing(text, quantity.start, "“", "”") or bool(
                _ANECDOTE.search(text, span_start, quantity.start))
            if not has_verb and (anecdote or not has_object):
                continue
            in_title = quantity.start < title_end
            rank = 2 * has_verb + has_object + 2 * (before is not None) - 2 * in_title - anecdote
            what = _what(text, span_start, (before or quantity).start)
            if head and not _leading_verb(what):
                what = _leading_verb(_what(text, head.start, head.end)) + what
            if not _OBJECT_RE.search(what) and found and quantity.unit == "%":
                what = f"{found[-1].what}{what}比例"
            measure = _measure_of(what, context, head_text) or only_measure
            found.append(_Candidate(quantity, before, span_start, what, measure, rank))
    return found


def extract_figures(text: str, measures: list[str] | None = None) -> list[FoundFigure]:
    """Figures about burden-reduction measures in `text` (a story's Simplified text, optionally
    headed by its title line), in reading order, each `text` an exact substring at `start`.
    A number told twice (headline and body, or body twice) is one figure, taken from its most
    result-like statement. `measures`, the story's measures, fills in the measure of a figure whose
    own clause names none when the story is about a single measure."""
    specific = [m for m in measures or [] if m != "other"]
    only_measure = specific[0] if len(specific) == 1 else None
    best: dict[tuple[float, str], _Candidate] = {}
    for candidate in _candidates(text, only_measure):
        key = (candidate.quantity.value, candidate.quantity.unit)
        if key not in best or candidate.rank > best[key].rank:
            best[key] = candidate
    figures: list[FoundFigure] = []
    emitted: set[tuple[float, str]] = set()
    for candidate in sorted(best.values(), key=lambda c: c.quantity.start):
        quantity, before = candidate.quantity, candidate.before
        figures.append(_figure(text, candidate.what, quantity, candidate.span_start, candidate.measure))
        emitted.add((quantity.value, quantity.unit))
        if before is not None and (before.value, before.unit) not in best and (
            (before.value, before.unit) not in emitted
        ):
            emitted.add((before.value, before.unit))
            figures.append(_figure(text, f"{candidate.what}（原有）", before, candidate.span_start,
                                   candidate.measure))
    return figures


_TOTAL_BEFORE = re.compile(r"(共|总计|合计|累计|总共)$")


def _parts_of_total(text: str, quantities: list[Quantity]) -> set[int]:
    """ids of the parts in "18个乡镇、86个部门和单位等共104个": only the total is the figure."""
    parts: set[int] = set()
    for index, quantity in enumerate(quantities):
        if index and _TOTAL_BEFORE.search(text[:quantity.start]):
            parts.update(id(q) for q in quantities[:index] if q.unit == quantity.unit)
    return parts


def _pair_before_after(text: str, quantities: list[Quantity]) -> dict[int, Quantity]:
    """{id(after quantity): before quantity} for "由X…减少到Y" pairs of the same unit."""
    pairs: dict[int, Quantity] = {}
    for first, second in zip(quantities, quantities[1:], strict=False):
        if first.unit == second.unit and _BEFORE_AFTER_RE.search(text[first.end:second.start]):
            pairs[id(second)] = first
    return pairs


def _figure(text: str, what: str, quantity: Quantity, span_start: int, measure: str | None) -> FoundFigure:
    start = span_start
    while start < quantity.start and text[start] in " \u3000\t\n”’」』":
        start += 1
    return FoundFigure(what=what or text[start:quantity.end], value=quantity.value, unit=quantity.unit,
                       text=text[start:quantity.end], start=start, measure=measure)
