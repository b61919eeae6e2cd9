"""normalize: widths, invisible characters, print-layout line breaks, scripts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consumers.analysis.normalize import (
    clean_chars,
    detect_script,
    normalize_paragraphs,
    split_paragraphs,
    to_simplified,
)

SEEDS = Path(os.environ.get("NEWSMON_SEEDS_DIR", Path(__file__).parents[3] / "shared" / "seeds"))


def test_fullwidth_ascii_becomes_halfwidth_but_chinese_punctuation_stays():
    text = "清理２７．５％的ＡＰＰ，（市）区：“僵尸群”；是否？"
    assert clean_chars(text) == "清理27.5%的APP，（市）区：“僵尸群”；是否？"


def test_invisible_and_control_characters_and_spaces_are_cleaned():
    assert clean_chars("\ufeff\u3000\u3000铁岭\u200b市\u00a0\u00a0减负\x07 \t ") == "铁岭市 减负"


def test_split_paragraphs_keeps_indentation_and_drops_blank_lines():
    text = "标题\r\n\r\n  第一段。\n第二段。\u2028\n\n"
    assert split_paragraphs(text) == ["标题", "  第一段。", "第二段。"]


def test_broken_print_lines_are_joined_inside_a_sentence():
    paragraphs = [
        "在这样的工作节奏中,“减负”显得十分珍贵。在他看来,“减负”主要减的是形式主义、官僚主义带来的额外负",
        "担。从这个角度而言,“减负”从未停止过。",
    ]
    assert normalize_paragraphs(paragraphs) == ["".join(paragraphs)]


def test_titles_bylines_datelines_and_indented_paragraphs_are_not_joined():
    paragraphs = [
        "集中清理规范微信工作群、政务APP 铁岭从“指尖”入手为基层干部减负",
        "本报讯 记者姜义双报道 针对过多、过滥的微信工作群,铁岭市自9月开始清理规范",
        "  调查了解到,很多基层干部加入的微信工作群过多。",
        "据介绍,瓦轴集团风电偏航变桨轴承、主轴轴承等各条生产线目前均满负荷生产,在手订单已排至",
        "本报记者 杨丽娟 文 鞠家田 摄",
        "长期以来,文山会海、考核加码、过度留痕等问题一直是基层减负的瓶颈和阻碍之",
        "“过去手机里有50多个工作群。”一位社区书记说。",
    ]
    assert normalize_paragraphs(paragraphs) == paragraphs[:2] + [p.strip() for p in paragraphs[2:]]


def test_latin_words_split_by_the_layout_get_a_space():
    assert normalize_paragraphs(["他说,这是一个在全省推广的非常重要的政务服务平台,名字叫做Smart", "City,已经上线。"]) == [
        "他说,这是一个在全省推广的非常重要的政务服务平台,名字叫做Smart City,已经上线。"
    ]


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"seed pages not found at {SEEDS}")
@pytest.mark.parametrize(
    ("seed", "joined"),
    [
        ("002_1e3f9b62d9072bb2.txt", "一方面,注重“当下改”。"),
        ("004_b70f7a28cb70b0c4.txt", "带来的额外负担。从这个角度而言"),
        ("000_ccb63704acf008df.txt", "以和谐、休闲、健康为主题"),
    ],
)
def test_seed_line_breaks_are_repaired(seed, joined):
    paragraphs = normalize_paragraphs(split_paragraphs((SEEDS / seed).read_text(encoding="utf-8")))
    assert any(joined in p for p in paragraphs)


def test_traditional_is_converted_with_taiwan_phrases():
    assert to_simplified("廈門同安區:精簡微信工作群 為基層干部減負,辦事效率也跟著提高了") == (
        "厦门同安区:精简微信工作群 为基层干部减负,办事效率也跟着提高了"
    )
    assert to_simplified("") == ""


def test_detect_script():
    assert detect_script("精簡微信工作群 為基層干部減負。同安區紀委監委開展行動,整治形式主義、官僚主義") == "traditional"
    assert detect_script("精简微信工作群 为基层干部减负。同安区纪委监委开展行动,整治形式主义") == "simplified"
    assert detect_script("Hello, world 2024") == "simplified"


@given(st.lists(st.text(max_size=40), max_size=8))
def test_normalize_never_grows_paragraph_count_or_leaves_blanks(paragraphs):
    out = normalize_paragraphs(paragraphs)
    assert len(out) <= len(paragraphs)
    assert all(p and p == p.strip() and "\n" not in p for p in out)
