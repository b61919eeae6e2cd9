"""Near-duplicate clusters: stable ids, recall on edited copies, no merging of different stories."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from consumers.analysis.corpus import load_corpus
from consumers.analysis.dedup import (
    BANDS,
    ClusterIndex,
    DeferredClusterIndex,
    InMemoryClusterStore,
    lsh_band_keys,
    minhash_signature,
)
from consumers.analysis.normalize import to_simplified

STORY = (
    "集中清理规范微信工作群、政务APP 铁岭从“指尖”入手为基层干部减负\n"
    "本报讯 针对过多、过滥的微信工作群、政务APP给基层干部的工作和生活带来不必要负担的问题，铁岭市自9月开始"
    "清理规范微信工作群、政务APP。截至11月12日，全市市、县两级机关共取消、合并不必要的微信工作群746个，"
    "减少27.5%；清理不规范微信公众号31个、微博5个、网站22家。目前，“指尖上的形式主义”在铁岭得到有效治理，"
    "减轻了基层干部的负担。调查了解到，很多基层干部加入的微信工作群过多，有的形同虚设，有的变成了小广告发布群，"
    "不仅影响工作，而且占用时间，甚至影响个人生活。"
)
TRADITIONAL = (
    "集中清理規範微信工作群、政務APP 鐵嶺從“指尖”入手為基層幹部減負\n"
    "本報訊 針對過多、過濫的微信工作群、政務APP給基層幹部的工作和生活帶來不必要負擔的問題，鐵嶺市自9月開始"
    "清理規範微信工作群、政務APP。截至11月12日，全市市、縣兩級機關共取消、合併不必要的微信工作群746個，"
    "減少27.5%；清理不規範微信公眾號31個、微博5個、網站22家。目前，“指尖上的形式主義”在鐵嶺得到有效治理，"
    "減輕了基層幹部的負擔。調查瞭解到，很多基層幹部加入的微信工作群過多，有的形同虛設，有的變成了小廣告發佈群，"
    "不僅影響工作，而且佔用時間，甚至影響個人生活。"
)


def copies_of_story() -> dict[str, str]:
    """Copies of STORY as other outlets and re-crawls carry it."""
    _, _, body = STORY.partition("\n")
    return {
        "edited": STORY.replace("很多", "不少").replace("不仅", "不但").replace("746", "七百四十六"),
        "truncated": STORY[: int(len(STORY) * 0.7)],
        "re-headed": "转载：铁岭整治指尖上的形式主义\n来源：辽宁日报 编辑：王某\n" + body,
        "traditional": TRADITIONAL,
        "reformatted": "  ".join(STORY.replace("，", ",").replace("。", ".\n")),
    }


def test_copies_share_the_first_storys_cluster():
    index = ClusterIndex()
    original = index.assign("a", STORY)
    for kind, text in copies_of_story().items():
        assert index.assign(f"copy-{kind}", text) == original, kind


def test_a_batch_resolves_like_one_story_at_a_time():
    """The processor's batch path (DeferredClusterIndex) gives the ids the sequential path gives,
    copies inside one batch included."""
    texts = {"a": STORY, **{f"copy-{k}": t for k, t in copies_of_story().items()},
             "other": "本报讯 全市农业部门召开春耕生产调度会，要求抓好种子化肥供应，确保粮食播种面积稳定。" * 3}
    index = ClusterIndex()
    sequential = {story_id: index.assign(story_id, t) for story_id, t in texts.items()}
    deferred = DeferredClusterIndex(InMemoryClusterStore())
    assert all(deferred.assign(story_id, t) == DeferredClusterIndex.PENDING for story_id, t in texts.items())
    batched = deferred.resolve()
    assert batched == sequential
    assert len(set(batched.values())) == 2          # the story and its copies; the unrelated one
    assert deferred.resolve() == {}                 # resolved stories are not resolved twice


def test_the_same_story_gets_the_same_id_in_another_process():
    here = ClusterIndex().assign("a", STORY)
    code = ("from consumers.analysis.dedup import ClusterIndex; import sys; "
            "print(ClusterIndex().assign('a', sys.stdin.read()))")
    there = subprocess.run([sys.executable, "-c", code], input=STORY, capture_output=True, text=True, check=True)
    assert there.stdout.strip() == here


def test_redelivery_is_idempotent_and_store_is_pluggable():
    store = InMemoryClusterStore()
    index = ClusterIndex(store)
    first = index.assign("a", STORY)
    assert index.assign("a", "completely different text this time") == first
    assert len(store) == 1
    # A second index over the same store (another consumer process sharing it) sees the cluster.
    assert ClusterIndex(store).assign("b", STORY[:-10]) == first


def test_band_keys_are_strings_for_a_keyword_store():
    keys = lsh_band_keys(minhash_signature(STORY))
    assert len(keys) == BANDS and len(set(keys)) == BANDS
    assert all(isinstance(k, str) and k.startswith("b") for k in keys)
    assert keys == lsh_band_keys(minhash_signature(STORY))


def _corpus_texts() -> list[tuple[str, str]]:
    return [(item["id"], to_simplified(item["input"]["text"]))
            for item in load_corpus("all") if "text" in item["input"]][:120]


def test_different_corpus_stories_stay_apart_and_edited_copies_join_them():
    texts = _corpus_texts()
    if len(texts) < 20:
        pytest.skip("the labelled corpus is not there yet")
    index = ClusterIndex()
    clusters = {item_id: index.assign(item_id, text) for item_id, text in texts}
    assert len(set(clusters.values())) >= 0.95 * len(texts)    # a few corpus items may be real copies
    rng = random.Random(3)
    joined = 0
    for item_id, text in texts:
        chars = list(text)
        for _ in range(len(chars) // 50):                        # 2 % of characters changed
            chars[rng.randrange(len(chars))] = rng.choice("的了是在和")
        joined += index.assign(f"{item_id}-edited", "".join(chars)) == clusters[item_id]
    assert joined / len(texts) >= 0.97
