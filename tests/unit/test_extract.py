"""extract: realistic portal and e-paper pages (tests/fixtures/pages), hints, bad input."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from consumers.analysis.extract import decode_html, extract_page, tree_paragraphs
from consumers.analysis.normalize import clean_chars, normalize_paragraphs, to_simplified

PAGES = Path(__file__).parents[1] / "fixtures" / "pages"

# Text of the page furniture around the articles: none of it may reach the paragraphs.
FURNITURE = [
    "直通屏山", "您所在的位置", "当前位置", "人民网>>", "責任編輯", "责任编辑", "分享到", "我來說兩句",
    "我来说两句", "打印", "收藏", "發給好友", "更多>>", "今日熱詞", "點擊排行", "相关新闻", "網友評論",
    "网友留言", "海邊的風", "早該這樣了", "關于我們", "人民日报社概况", "ICP", "公网安备", "版權", "版权所有",
    "jubao@", "0591-87095403", "010-65363263", "024-22698114", "Copyright", "版面导航", "本版标题",
    "上一篇", "下一篇", "返回目录", "24小时排行", "暑运首日", "辽阳发放918万元", "《 人民日报 》",
    "发布日期", "福州地鐵",
]


def _read(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def _furniture_in(paragraphs: list[str]) -> list[str]:
    text = "\n".join(paragraphs)
    return [f for f in FURNITURE if f in text]


@pytest.mark.parametrize(
    ("name", "title", "date", "byline", "outlet", "first", "last"),
    [
        (
            "fjsen_tongan_traditional.html",
            "廈門同安區:精簡微信工作群 為基層干部減負",
            datetime(2019, 4, 8),
            "記者 朱道衡 通訊員 楊怡曼",
            "廈門日報",
            "國產高潮視頻",          # the injected spam line survives extraction (junk masks it later)
            "必須采取措施加以整治。",
        ),
        (
            "lnrb_tieling_epaper.html",
            "集中清理规范微信工作群、政务APP 铁岭从“指尖”入手为基层干部减负",
            datetime(2019, 11, 15),
            "记者姜义双",
            "辽宁日报",
            "本报讯",
            "干事优良的政务环境。",
        ),
        (
            "people_workgroups_gbk_nometa.html",
            "各地各部门精减工作群、优化政务App 为基层干部卸下指尖上的负担",
            datetime(2021, 6, 28),
            None,
            "人民网－人民日报",
            "近年来，政务新媒体",
            "鄂州市共清理各类政务账号74个。",
        ),
    ],
)
def test_portal_pages(name, title, date, byline, outlet, first, last):
    page = extract_page(_read(name), url=f"http://127.0.0.1/{name}")
    assert page.title == title
    assert page.published_at == date
    assert page.byline == byline
    assert page.outlet == outlet
    assert page.paragraphs[0].startswith(first)
    assert page.paragraphs[-1].endswith(last)
    assert _furniture_in(page.paragraphs) == []


def test_paragraph_structure_and_subheadings_are_kept():
    page = extract_page(_read("fjsen_tongan_traditional.html"))
    assert "效率降低 微信群多干部負擔重" in page.paragraphs
    # <br> inside a heading separates lines, like the plain-text seed pages
    at = page.paragraphs.index("去粗存精")
    assert page.paragraphs[at : at + 3] == ["去粗存精", "讓基層干部", "有精力干實事"]
    assert len(page.paragraphs) == 19


def test_gbk_bytes_without_charset_decode():
    data = _read("people_workgroups_gbk_nometa.html")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert b"charset" not in data.lower()
    text = decode_html(data)
    assert "岳麓区" in text and "\ufffd" not in text
    page = extract_page(data)
    assert any("望月湖街道微信、QQ工作群从127个，减少到16个" in p for p in page.paragraphs)


def test_declared_charset_that_lies_is_overruled_by_valid_utf8():
    data = _read("nmgrb_hulunbuir_hints.html")
    assert b"charset=gb2312" in data
    assert "呼伦贝尔" in decode_html(data)


def test_fullwidth_epaper_text_normalises_to_figures():
    page = extract_page(_read("lnrb_tieling_epaper.html"))
    text = "\n".join(normalize_paragraphs(page.paragraphs))
    assert "共取消、合并不必要的微信工作群746个" in text
    assert "减少27.5%" in text


def test_hints_win_over_heuristics():
    data = _read("nmgrb_hulunbuir_hints.html")
    hints = {"body_xpath": "//div[@id='ozoom']", "title_xpath": "//td[@class='font02'] | //td[@class='font01']"}
    page = extract_page(data, hints=hints)
    assert page.title == "把干事创业的手脚从形式主义、官僚主义的桎梏、“套路”中解脱出来 呼伦贝尔为基层减负为实干赋能"
    assert page.paragraphs[0] == "□本报记者 李玉琢"
    assert page.paragraphs[-1].endswith("基层干部减少入户频次50%左右。")
    assert len(page.paragraphs) == 5
    assert page.byline == "本报记者 李玉琢"
    assert page.published_at == datetime(2024, 6, 3)
    unhinted = extract_page(data)
    assert unhinted.title == "内蒙古日报数字报"


def test_bad_hint_falls_back_to_heuristics():
    page = extract_page(_read("lnrb_tieling_epaper.html"), hints={"body_xpath": "//div[@id=", "title_xpath": "//nothing"})
    assert page.paragraphs and page.paragraphs[0].startswith("本报讯")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        "   ",
        b"\x00\x01\x02\x03\xff\xfe\x00\x89PNG\r\n\x1a\n" * 500,
        b"<html><body><p>\xff\xfe\xfd broken",
        "<html><body><div><p>未闭合" * 3,
        "<<<>>> not html at all &&&",
        "<html>" + "<div>" * 5000 + "深层嵌套" + "</div>" * 5000 + "</html>",
    ],
)
def test_bad_input_never_raises(data):
    page = extract_page(data)
    assert isinstance(page.paragraphs, list)


def test_huge_page_is_cut_and_still_extracted():
    article = _read("lnrb_tieling_epaper.html").decode("utf-8")
    huge = article.replace("</body>", "<div>" + "填充" * 3_000_000 + "</div></body>")
    page = extract_page(huge)
    assert isinstance(page.paragraphs, list)


def test_tree_paragraphs_splits_blocks_and_breaks():
    from lxml import html

    el = html.fromstring("<div><p>第一段<b>加粗</b>继续</p>第二段<br>第三段<ul><li>条目</li></ul><script>x()</script></div>")
    assert tree_paragraphs([el]) == ["第一段加粗继续", "第二段", "第三段", "条目"]


def test_traditional_page_simplifies_for_analysis():
    page = extract_page(_read("fjsen_tongan_traditional.html"))
    assert to_simplified(clean_chars(page.title)) == "厦门同安区:精简微信工作群 为基层干部减负"
