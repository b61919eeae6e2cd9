"""Figures: the seeds' labelled quantities, exact spans, and what must not be taken."""

from __future__ import annotations

import pytest

from consumers.analysis.figures import extract_figures
from consumers.analysis.normalize import to_simplified
from tests.unit.test_regions import relevant_seed_stories


def _overlaps(figure, start: int, length: int) -> bool:
    return figure.start < start + length and start < figure.start + len(figure.text)


def test_every_labelled_seed_figure_is_found():
    for name, title, body, label in relevant_seed_stories():
        story = f"{title}\n{body}"
        figures = extract_figures(story)
        for figure in figures:
            assert story[figure.start:figure.start + len(figure.text)] == figure.text
        for wanted in label["figures"]:
            wanted_text = to_simplified(wanted["text"])
            at = story.find(wanted_text)
            assert at >= 0, f"{name}: labelled text {wanted_text!r} not in the story slice"
            assert any(
                f.value == pytest.approx(wanted["value"]) and f.unit == wanted["unit"]
                and _overlaps(f, at, len(wanted_text))
                for f in figures
            ), f"{name}: {wanted} not in {[(f.value, f.unit, f.text) for f in figures]}"


def test_seed_000_figures_exactly():
    text = ("截至11月12日,全州市、县两级机关共取消、合并不必要的微信工作群746个,减少27.5%;"
            "清理不规范微信公众号31个、微博5个、网站22家。")
    figures = extract_figures(text)
    assert [(f.value, f.unit, f.measure) for f in figures] == [
        (746, "个", "work_groups"), (27.5, "%", "work_groups"), (31, "个", "public_accounts"),
        (5, "个", "public_accounts"), (22, "家", "public_accounts")]
    assert figures[0].text == "全州市、县两级机关共取消、合并不必要的微信工作群746个"
    assert figures[0].what == "取消、合并微信工作群"
    assert figures[3].text == "微博5个" and figures[3].what == "清理微博"


def test_before_and_after_values_the_after_one_first():
    text = "此前，岳麓区委发布规范。望月湖街道微信、QQ工作群从127个,减少到16个。"
    figures = extract_figures(text)
    assert [(f.value, f.text) for f in figures] == [
        (16, "望月湖街道微信、QQ工作群从127个,减少到16个"), (127, "望月湖街道微信、QQ工作群从127个")]
    one_clause = extract_figures("社区各类报表由原来的96种精简为27种。")
    assert [f.value for f in one_clause] == [27, 96]


def test_chinese_numerals_and_shares():
    figures = extract_figures("保留的工作专班数量仅为清理前的三分之一，村级台账减少六成以上，关停“僵尸”应用十余个。")
    assert [(f.value, f.unit) for f in figures] == [(33.3, "%"), (60, "%"), (10, "个")]


@pytest.mark.parametrize(
    "text",
    [
        "辽阳市今年已为90名申请人发放创业担保贷款918万元，超额15%完成全市年度计划。",
        "前10个月瓦轴风电轴承收入同比增69.1%。",
        "“常常下班后在家都扑在微信群上，8岁的女儿都开始对我抱怨了。”",
        "截至2019年11月12日，全市GDP增长6.5%。",
        "区直部门人数少于20人的单位，可建3个以下工作群；会议一般不超过1小时。",
        "制定《渝北区规范政务工作群管理十条》。",
        "总计接单量497件，办结率92%，群众好评率98.2%。",
        "“过去手机里有60多个群，我只加了6个工作群。”",
    ],
)
def test_unrelated_numbers_are_not_figures(text):
    assert extract_figures(text) == []


def test_a_number_told_twice_is_one_figure_from_the_body():
    text = "我省规范政务新媒体管理 涪城区一次关停政务账号42个\n绵阳市涪城区近日完成首轮清理，共关停政务新媒体账号42个。"
    figures = extract_figures(text)
    assert len(figures) == 1 and figures[0].text == "共关停政务新媒体账号42个"


def test_story_measure_fills_in_when_the_clause_names_none():
    figures = extract_figures("经过整治，压减了40%。", measures=["meetings_documents"])
    assert [(f.value, f.measure) for f in figures] == [(40, "meetings_documents")]
