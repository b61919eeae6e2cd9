"""Chinese and Arabic numerals, magnitudes, approximations, percentages and fractions."""

from __future__ import annotations

import pytest

from consumers.analysis.numbers import find_quantities, parse_numeral, parse_quantity


@pytest.mark.parametrize(
    ("expression", "value", "unit", "approx"),
    [
        ("三个", 3, "个", None),
        ("十余个", 10, "个", "余"),
        ("1.2万", 12000, "", None),
        ("两千", 2000, "", None),
        ("三分之一", 33.3, "%", None),
        ("三分之二", 66.7, "%", None),
        ("百分之四十", 40, "%", None),
        ("近百个", 100, "个", "近"),
        ("一半", 50, "%", None),
        ("近七成", 70, "%", "近"),
        ("六成以上", 60, "%", "以上"),
        ("27.5%", 27.5, "%", None),
        ("50％左右", 50, "%", "左右"),
        ("1,300余个", 1300, "个", "余"),
        ("1.3万余个", 13000, "个", "余"),
        ("20余万个", 200000, "个", "余"),
        ("一百零五项", 105, "项", None),
        ("746个", 746, "个", None),
        ("918万元", 918, "万元", None),
        ("3个百分点", 3, "个百分点", None),
        ("超过30%", 30, "%", "超过"),
    ],
)
def test_quantity_table(expression, value, unit, approx):
    quantity = parse_quantity(expression)
    assert quantity is not None
    assert (quantity.value, quantity.unit, quantity.approx) == (pytest.approx(value), unit, approx)


@pytest.mark.parametrize("numeral", ["统一个", "第一批", "唯一一个", "几十个", "数百个", "三四次", "两三个", "五六十个",
                                     "一表通", "一票否决", "2019年11月12日"])
def test_words_ranges_and_dates_are_not_counts(numeral):
    assert find_quantities(numeral) == []


def test_quantities_are_found_in_order_with_exact_spans():
    text = "望月湖街道微信、QQ工作群从127个,减少到16个，压缩了59%。"
    quantities = find_quantities(text)
    assert [(q.value, q.unit) for q in quantities] == [(127, "个"), (16, "个"), (59, "%")]
    assert [text[q.start:q.end] for q in quantities] == ["127个", "16个", "59%"]


def test_parse_numeral_rejects_non_numbers():
    assert parse_numeral("一百二十七") == 127
    assert parse_numeral("3,000") == 3000
    assert parse_numeral("工作") is None
    assert parse_numeral("") is None
