"""split: one page -> its stories, on the five seed pages (labels.json) and the labelled corpus."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from consumers.analysis.corpus import load_corpus
from consumers.analysis.junk import junk_mask
from consumers.analysis.normalize import clean_chars, normalize_paragraphs, split_paragraphs, to_simplified
from consumers.analysis.split import find_byline, is_byline, split_stories

SEEDS = Path(os.environ.get("NEWSMON_SEEDS_DIR", Path(__file__).parents[3] / "shared" / "seeds"))
needs_seeds = pytest.mark.skipif(
    not (SEEDS / "labels.json").is_file(), reason=f"seed pages and labels.json not found at {SEEDS}"
)
# A label such as "来自省两会的报道 (several continuation pieces)" stands for any number of spans.
_SEVERAL = re.compile(r"\s*\(several [^)]*\)$")


def _squash(text: str) -> str:
    return "".join(to_simplified(text).split())


def _clean_page(text: str) -> list[str]:
    """The pipeline's plain-text path up to the splitter."""
    paragraphs = [to_simplified(p) for p in normalize_paragraphs(split_paragraphs(text))]
    return [p for p, junk in zip(paragraphs, junk_mask(paragraphs), strict=True) if not junk]


def _labels() -> dict:
    return json.loads((SEEDS / "labels.json").read_text(encoding="utf-8"))["seeds"]


def _align(found: list[str], wanted: list[str]) -> list[list[int]] | None:
    """Match found titles to labelled ones in order. A label equals a found title, or is its start
    (labels.json shortens one three-part headline of seed 004); a "(several ...)" label takes one or
    more consecutive spans. Returns the span indices per label, or None when they do not line up."""
    groups: list[list[int]] = []
    k = 0
    for n, label in enumerate(wanted):
        several = bool(_SEVERAL.search(label))
        if not several:
            if k >= len(found) or not found[k].startswith(_squash(label)):
                return None
            groups.append([k])
            k += 1
            continue
        nxt = _squash(wanted[n + 1]) if n + 1 < len(wanted) else None
        start = k
        while k < len(found) and (nxt is None or not found[k].startswith(nxt)):
            k += 1
        if k == start:
            return None
        groups.append(list(range(start, k)))
    return groups if k == len(found) else None


@needs_seeds
@pytest.mark.parametrize(
    "seed",
    ["000_ccb63704acf008df.txt", "001_af67f4e76d60647f.txt", "002_1e3f9b62d9072bb2.txt",
     "003_4e77723d70b999b6.txt", "004_b70f7a28cb70b0c4.txt"],
)
def test_seed_stories_titles_and_figures(seed):
    label = _labels()[seed]
    paragraphs = _clean_page((SEEDS / seed).read_text(encoding="utf-8"))
    spans = split_stories(paragraphs)
    found = [_squash(s.title) for s in spans]
    wanted = [s["title"] for s in label["stories"]]
    groups = _align(found, wanted)
    assert groups is not None, f"found {found}\nwanted {[_squash(w) for w in wanted]}"
    # spans are disjoint and ordered
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:], strict=False))
    for story, group in zip(label["stories"], groups, strict=True):
        text = "\n".join(p for k in group for p in paragraphs[spans[k].start : spans[k].end])
        for figure in story.get("figures", []):
            assert to_simplified(clean_chars(figure["text"])) in text, figure["text"]


@needs_seeds
def test_seed_kinds_and_bylines():
    def spans_of(seed):
        paragraphs = _clean_page((SEEDS / seed).read_text(encoding="utf-8"))
        return {_squash(s.title): s for s in split_stories(paragraphs)}

    page0 = spans_of("000_ccb63704acf008df.txt")
    assert page0[_squash("破除“指尖上的形式主义”")].kind == "commentary"
    assert page0[_squash("破除“指尖上的形式主义”")].byline == "姜义双"
    assert page0[_squash("辽阳发放918万元担保贷款支持创业")].kind == "brief"
    lead = page0[_squash("集中清理规范微信工作群、政务APP 铁岭从“指尖”入手为基层干部减负")]
    assert (lead.kind, lead.byline) == ("news", "记者姜义双")
    page2 = spans_of("002_1e3f9b62d9072bb2.txt")
    assert next(iter(page2.values())).byline == "本报记者 李玉琢"
    page3 = spans_of("003_4e77723d70b999b6.txt")
    assert next(iter(page3.values())).byline == "记者 朱道衡 通讯员 杨怡曼"
    page4 = split_stories(_clean_page((SEEDS / "004_b70f7a28cb70b0c4.txt").read_text(encoding="utf-8")))
    assert page4[0].byline == "新华社记者何玲玲 顾小立 王俊禄"
    assert page4[1].kind == "continuation"
    last = page4[-1]
    assert last.title == "深化政治巡视 提升监督效能" and last.byline == "辽宁日报记者 王坤 侯永锋"


def test_subheadings_stay_inside_their_story():
    paragraphs = [
        "精简微信工作群 为基层干部减负",
        "厦门日报讯(记者 朱道衡)一场“精简行动”正在同安区基层单位中进行,微信工作群过多的问题正被整治。",
        "效率降低 微信群多干部负担重",
        "“加群太多,消息太杂,反而容易错过重要信息。”一位加了近百个微信工作群的基层干部告诉记者。",
        "去粗存精",
        "让基层干部",
        "有精力干实事",
        "“微信工作群和工作留痕一旦过多就变味,浪费基层干部大量时间精力。”纪委监委有关负责人说。",
    ]
    spans = split_stories(paragraphs)
    assert [(s.start, s.end, s.title) for s in spans] == [(0, 8, "精简微信工作群 为基层干部减负")]


def test_a_new_story_needs_a_start_signal_or_a_topic_shift():
    paragraphs = [
        "满都拉口岸进出口货运量突破300万吨",
        "本报包头6月2日电(记者 格日勒图)2024年满都拉口岸进出口货运量突破300万吨,同比增加63%。",
        "满都拉口岸坚持做好日调度,及时破解口岸通关各环节中的堵点、难点,保障通关全流程畅通。",
        "庭院“方寸地”变成村民增收“聚宝盆”",
        "在固阳县下湿壕镇白银套村,村民们利用闲置房屋开办了鲜食甜糯玉米加工生产作坊,每亩增收1000元。",
        "(王林喜)",
    ]
    spans = split_stories(paragraphs)
    assert [(s.start, s.end, s.title) for s in spans] == [
        (0, 3, "满都拉口岸进出口货运量突破300万吨"),
        (3, 6, "庭院“方寸地”变成村民增收“聚宝盆”"),
    ]
    assert spans[1].byline == "王林喜"


def test_single_story_without_title_line_takes_the_page_title():
    spans = split_stories(["近日,铁岭市清理规范微信工作群。", "共取消、合并微信工作群746个。"], page_title="铁岭清群")
    assert [(s.start, s.end, s.title, s.title_index) for s in spans] == [(0, 2, "铁岭清群", None)]


def test_page_title_is_kept_over_its_shortened_repeat():
    paragraphs = [
        "精简微信工作群 为基层干部减负",
        "近期,同安区一场“精简微信工作群”行动正在进行,目前已经精简微信工作群890个。(杨怡曼 摄)",
    ]
    spans = split_stories(paragraphs, page_title="厦门同安区:精简微信工作群 为基层干部减负")
    assert [(s.title, s.title_index) for s in spans] == [("厦门同安区:精简微信工作群 为基层干部减负", 0)]
    spans = split_stories(paragraphs, page_title="东南网")
    assert [s.title for s in spans] == ["精简微信工作群 为基层干部减负"]


def test_weibo_post_title_in_brackets():
    spans = split_stories([
        "正文一段,讲的是另一个地方的工作群清理情况,全区合并、解散工作群1170个,保留工作群614个。",
        "#宜昌身边事# 【长阳两“清漂卫士”正式上岗】6月5日,长阳两艘全自动化清漂船正式下水投入运行。",
    ])
    assert [s.title for s in spans][-1] == "长阳两“清漂卫士”正式上岗"


def test_bylines():
    assert is_byline("□本报记者 李佳雨 通讯员 张辉")
    assert is_byline("鲁娜 本报记者 丛焕宇")
    assert is_byline("姜义双")
    assert is_byline("(王林喜)")
    assert not is_byline("去粗存精")
    assert not is_byline("奔跑吧·少年")
    assert find_byline(["本报讯 记者姜义双报道 针对过多、过滥的微信工作群,铁岭市开始清理。"]) == "记者姜义双"
    assert find_byline(["本报6月2日讯(记者 李永桃)6月1日,活动启动。"]) == "记者 李永桃"


def test_empty_input():
    assert split_stories([]) == []


def _title_errors(split: str) -> list[str]:
    errors = []
    for item in load_corpus(split):
        if item.get("spam") or "text" not in item["input"]:
            continue
        spans = split_stories(_clean_page(item["input"]["text"]))
        found = [_squash(s.title) for s in spans]
        wanted = [_squash(clean_chars(s["title"])) for s in item["stories"]]
        if found != wanted:
            errors.append(f"{item['id']}: found {found} wanted {wanted}")
    return errors


def test_corpus_titles_train_split():
    assert _title_errors("train") == []


def test_corpus_titles_test_split_stay_accurate():
    """Held-out check (never tuned on): at most 5 % of held-out pages split wrongly."""
    items = [i for i in load_corpus("test") if not i.get("spam") and "text" in i["input"]]
    errors = _title_errors("test")
    assert len(errors) <= 0.05 * max(len(items), 1), errors
