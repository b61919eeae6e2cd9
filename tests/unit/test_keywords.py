"""Keywords (TF-IDF with jieba's idf.txt over the shared segmenter) and cited policy documents."""

from __future__ import annotations

from consumers.analysis.keywords import extract_keywords, extract_policy_documents, idf_table

STORY_TITLE = "集中清理规范微信工作群、政务APP 铁岭从“指尖”入手为基层干部减负"
STORY_TEXT = (
    "针对过多、过滥的微信工作群、政务APP给基层干部带来不必要负担的问题，铁岭市清理规范微信工作群、政务APP。"
    "全市共取消、合并不必要的微信工作群746个。目前，“指尖上的形式主义”在铁岭得到有效治理。"
    "对长期不用的“僵尸群”及时注销，微信工作群建立者履行群组管理责任。"
)


def test_domain_words_stay_whole_and_rank_high():
    keywords = extract_keywords(STORY_TITLE, STORY_TEXT)
    assert keywords[:2] == ["微信工作群", "政务APP"]
    for whole in ("指尖上的形式主义", "僵尸群"):
        assert whole in extract_keywords(STORY_TITLE, STORY_TEXT, top_k=20)
    assert "微信" not in keywords and "工作群" not in keywords    # not split into parts


def test_keywords_skip_single_characters_numbers_and_stop_words():
    keywords = extract_keywords("The 2024 年", "the of 746 个 a 2019年 工作群 工作群", top_k=10)
    assert keywords == ["工作群"]
    assert extract_keywords("", "") == []
    assert len(extract_keywords(STORY_TITLE, STORY_TEXT, top_k=3)) == 3


def test_idf_is_jiebas_table():
    idf, median = idf_table()
    assert len(idf) > 200_000 and 10 < median < 14
    assert idf["基层"] < idf["铁岭"]       # a rarer word weighs more


def test_policy_documents_in_order_without_media_and_back_references():
    text = (
        "据《人民日报》报道，铁岭市委办公室下发《关于开展清理规范使用政务APP、微信工作群的通知》。"
        "《通知》要求…… 根据《关于贯彻〈中国共产党问责条例〉的实施办法》和《求是》杂志文章，"
        "再次强调《关于开展清理规范使用政务APP、微信工作群的通知》。《新闻联播》也作了报道，"
        "《关于基层减负工作情况的通报》已经印发。"
    )
    assert extract_policy_documents(text) == [
        "关于开展清理规范使用政务APP、微信工作群的通知",
        "关于贯彻中国共产党问责条例的实施办法",
        "关于基层减负工作情况的通报",
    ]
    assert extract_policy_documents("没有书名号。") == []
