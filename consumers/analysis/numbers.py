"""Numbers as Chinese news writes them: Arabic or Chinese numerals, magnitudes, approximations,
percentages, fractions and 成 (tenths).

The core numeral -> value conversion is cn2an's "smart" mode (一万二千三百, 两千, 1.2万, 4.5亿,
零点五). What cn2an does not do, and this module adds, is finding quantities inside running text
and the expressions around a numeral that change its meaning:

    十余个 -> 10 个 (approx "余")     近百个 -> 100 个 (approx "近")   1,300余个 -> 1300 个
    百分之四十 -> 40 %               三分之一 -> 33.3 %               近七成 -> 70 %
    一半 / 半数 -> 50 %              27.5% / 27.5％ -> 27.5 %         3个百分点 -> 3 个百分点

A quantity is only recognised with a unit (a measure word, %, 成 …): a bare numeral in running
text is far more often part of a word (一线, 三中全会, 一票否决) than a figure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cn2an

_MAGNITUDES = {"万": 10_000, "亿": 100_000_000}
_CN_DIGITS = "零〇一二两三四五六七八九十百千万亿廿"
# A numeral: Arabic (thousands separators, decimals, an optional Chinese magnitude: 1.2万, 3千)
# or Chinese (一百二十七, 两千, 十, 零点五).
_ARABIC = r"\d+(?:[,，]\d{3})*(?:\.\d+)?(?:[十百千万亿]+)?"
_CHINESE = rf"[{_CN_DIGITS}]+(?:点[零〇一二三四五六七八九]+)?[万亿]?"
NUMERAL = rf"(?:{_ARABIC}|{_CHINESE})"

# Measure words and units that can follow a count. Longer alternatives first (个百分点 before 个).
# Calendar units (年/月/日/时) are deliberately absent: 2019年 and 11月12日 are dates, not figures.
COUNT_UNITS: tuple[str, ...] = (
    "个百分点", "个工作日", "小时", "分钟", "万元", "亿元", "人次", "个次", "项次", "余项",
    "个", "家", "项", "张", "本", "次", "场", "件", "类", "种", "块", "份", "条", "名", "人", "位",
    "篇", "期", "套", "台", "部", "款", "批", "轮", "天", "周", "元", "户", "村", "所", "支", "处",
    "群", "组", "页", "份", "字", "岁", "吨", "米", "公里", "平方公里", "亩", "倍",
)
_UNIT_ALT = "|".join(sorted({re.escape(u) for u in COUNT_UNITS}, key=len, reverse=True))

_APPROX_PREFIX = r"(?P<prefix>近|约|逾|超过|超|将近|接近|大约)?"
_APPROX_SUFFIX = r"(?P<suffix>余|多|来)?(?P<magnitude>[万亿])?"   # 20余万个: the magnitude follows 余
_TRAILING = r"(?P<trailing>左右|以上|以下|有余)?"
# Characters that, written just before a Chinese numeral, make it part of a word (统一, 第一,
# 唯一, 同一, 每一, 单一, 逐一, 之一) or a vague amount (几十个, 数百个) rather than a count.
_WORD_PREFIX_CHARS = set("统第唯同每单逐之万专划归合几数")
# Two digit characters side by side (三四次, 两三个, 五六十个) are a range, not a number: cn2an
# would read them digit by digit as 34, 23, 560.
_CHINESE_RANGE = re.compile("[一二两三四五六七八九][一二两三四五六七八九]")

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # 百分之四十, 百分之27.5
    ("percent_cn", re.compile(rf"{_APPROX_PREFIX}百分之(?P<num>{NUMERAL}){_TRAILING}")),
    # 三分之一, 2/3 is too ambiguous with dates and scores to take
    ("fraction", re.compile(rf"{_APPROX_PREFIX}(?P<den>{NUMERAL})分之(?P<num>{NUMERAL}){_TRAILING}")),
    # 27.5%, 50％
    ("percent", re.compile(rf"{_APPROX_PREFIX}(?P<num>{NUMERAL}){_APPROX_SUFFIX}[%％]{_TRAILING}")),
    # 近七成, 四成, 六成以上 (Chinese numeral only: "3成" is rare and 成 starts many words)
    ("tenths", re.compile(rf"{_APPROX_PREFIX}(?P<num>[一二两三四五六七八九十]){_APPROX_SUFFIX}成(?![本功为立果绩员长都熟])"
                          rf"{_TRAILING}")),
    # 一半, 半数, 过半
    ("half", re.compile(rf"{_APPROX_PREFIX}(?P<half>一半|半数|过半){_TRAILING}")),
    # 746个, 1,300余个, 十余个, 近百个, 1.3万余个, 两千多项
    ("count", re.compile(rf"{_APPROX_PREFIX}(?P<num>{NUMERAL}|[百千万]){_APPROX_SUFFIX}(?P<unit>{_UNIT_ALT})"
                         rf"{_TRAILING}")),
)


@dataclass(frozen=True, slots=True)
class Quantity:
    """A number with its unit found in text. [start, end) covers approximation words and the unit;
    `approx` keeps the qualifier (余, 近, 左右, 以上 …) so callers can tell 十余个 from 十个."""

    value: float
    unit: str
    start: int
    end: int
    approx: str | None = None


def parse_numeral(numeral: str) -> float | None:
    """Value of one numeral ('746', '1,300', '27.5', '1.2万', '两千', '一百零五', '十', '百');
    None if it is not a number."""
    numeral = numeral.strip().replace(",", "").replace("，", "")
    if not numeral:
        return None
    if numeral in ("百", "千", "万", "亿"):          # 近百个, 上千人: the bare magnitude means one of it
        numeral = "一" + numeral
    if _CHINESE_RANGE.search(numeral):
        return None
    try:
        value = cn2an.cn2an(numeral, "smart")
    except (ValueError, KeyError, IndexError):
        return None
    return float(value)


def _round(value: float) -> float:
    """Percentages from fractions to one decimal (三分之一 -> 33.3), integers kept exact."""
    return float(round(value, 1))


def _approx(match: re.Match[str]) -> str | None:
    parts = [match.groupdict().get(name) for name in ("prefix", "suffix", "trailing")]
    found = [p for p in parts if p]
    return "".join(found) or None


def _preceded_by_word(text: str, start: int, numeral: str) -> bool:
    """True when a Chinese numeral continues a word (统一个 …, 第一批): not a count."""
    if start == 0 or numeral[:1] not in _CN_DIGITS:
        return False
    return text[start - 1] in _WORD_PREFIX_CHARS


def _quantity_from(kind: str, match: re.Match[str], text: str) -> Quantity | None:
    groups = match.groupdict()
    start, end = match.span()
    approx = _approx(match)
    if kind == "half":
        return Quantity(50.0, "%", start, end, approx)
    first_numeral = groups["den"] if kind == "fraction" else groups["num"]
    if kind in ("count", "tenths", "fraction") and not groups.get("prefix") and _preceded_by_word(
        text, start, first_numeral
    ):
        return None
    value = parse_numeral(groups["num"])
    if value is None:
        return None
    if groups.get("magnitude"):
        value *= _MAGNITUDES[groups["magnitude"]]
    if kind == "fraction":
        denominator = parse_numeral(groups["den"])
        if not denominator:
            return None
        return Quantity(_round(100.0 * value / denominator), "%", start, end, approx)
    if kind in ("percent", "percent_cn"):
        return Quantity(_round(value), "%", start, end, approx)
    if kind == "tenths":
        return Quantity(value * 10.0, "%", start, end, approx)
    unit = groups["unit"]
    if unit == "元" and groups["num"][-1] in _MAGNITUDES:   # 918万元: money is counted in 万元
        value /= _MAGNITUDES[groups["num"][-1]]
        unit = groups["num"][-1] + "元"
    if unit == "余项":                      # 十余项: the 余 belongs to the approximation
        unit, approx = "项", (approx or "") + "余"
    return Quantity(value, unit, start, end, approx)


def find_quantities(text: str) -> list[Quantity]:
    """All quantities in `text`, in order, without overlaps (the earliest, then longest, wins:
    百分之四十 is one percentage, not also a count)."""
    found: list[Quantity] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            quantity = _quantity_from(kind, match, text)
            if quantity is not None:
                found.append(quantity)
    found.sort(key=lambda q: (q.start, -(q.end - q.start)))
    kept: list[Quantity] = []
    for quantity in found:
        if kept and quantity.start < kept[-1].end:
            continue
        kept.append(quantity)
    return kept


def parse_quantity(expression: str) -> Quantity | None:
    """The quantity an expression such as '十余个', '三分之一', '近七成' or '1.2万' denotes (a bare
    numeral gets unit ''), or None."""
    expression = expression.strip()
    quantities = find_quantities(expression)
    if quantities and quantities[0].start == 0 and quantities[0].end == len(expression):
        return quantities[0]
    value = parse_numeral(expression)
    return Quantity(value, "", 0, len(expression)) if value is not None else None
