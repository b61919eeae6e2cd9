"""The evaluation's matching and metric functions on small hand-made items and outputs."""

from __future__ import annotations

import pytest

from consumers.analysis.evaluate import (
    Evaluation,
    analyze_input,
    evaluate,
    figure_found,
    first_region_agrees,
    match_stories,
    score_item,
    texts_overlap,
    title_key,
    titles_match,
    to_json,
)

TIELING = {"province": "辽宁省", "city": "铁岭市", "county": None, "adcode": "211200"}
JIANGBEI = {"province": "重庆市", "city": None, "county": "江北区", "adcode": "500105"}


def story(title, relevant=True, **extra):
    return {"title": title, "relevant": relevant, **extra}


def test_title_key_folds_script_width_and_punctuation():
    assert title_key("廈門同安區:精簡微信工作群 為基層干部減負") == title_key("厦门同安区：精简微信工作群为基层干部减负")
    assert title_key("@基层干部，最近你“减负”了吗？") == "基层干部最近你减负了吗"
    assert title_key("ＡＰＰ") == "app"


def test_titles_match_fuzzily_but_not_loosely():
    assert titles_match(title_key("厦门同安区:精简微信工作群 为基层干部减负"), title_key("精简微信工作群 为基层干部减负"))
    assert not titles_match(title_key("奔跑吧·少年"), title_key("超薄铝箔炼成记"))
    assert not titles_match("", "标题")


def test_match_stories_is_one_to_one_and_tolerates_missing():
    labelled = [story("铁岭为基层干部减负"), story("辽阳发放918万元担保贷款支持创业", False), story("不存在的标题啊", False)]
    predicted = [story("辽阳发放918万元担保贷款支持创业", False), story("鐵嶺為基層幹部減負")]
    assert match_stories(labelled, predicted) == [1, 0, None]


def test_match_stories_uses_the_original_title_too():
    labelled = [story("廈門同安區:精簡微信工作群 為基層干部減負")]
    predicted = [story("厦门同安区:精简微信工作群 为基层干部减负", title_original="廈門同安區:精簡微信工作群 為基層干部減負")]
    assert match_stories(labelled, predicted) == [0]


def test_texts_overlap():
    assert texts_overlap("减少27.5%", "减少27.5%")
    assert texts_overlap("共取消、合并不必要的微信工作群746个", "微信工作群746个")
    assert texts_overlap("目前已經精簡微信工作群890個", "精简微信工作群890个")
    assert not texts_overlap("保留工作群614个", "合并、解散工作群1170个")


def test_figure_found_needs_value_unit_and_overlapping_text():
    label = {"value": 890, "unit": "个", "text": "目前已經精簡微信工作群890個"}
    assert figure_found(label, [{"value": 890.0, "unit": "个", "text": "精简微信工作群890个"}])
    assert figure_found(label, [{"value": 890, "unit": "個", "text": "x", "text_original": "精簡微信工作群890個"}])
    assert not figure_found(label, [{"value": 89, "unit": "个", "text": "精简微信工作群890个"}])
    assert not figure_found(label, [{"value": 890, "unit": "%", "text": "精简微信工作群890个"}])
    assert not figure_found(label, [{"value": 890, "unit": "个", "text": "另有商户890个"}])


def test_first_region_agrees_per_level():
    assert first_region_agrees([TIELING], [TIELING, JIANGBEI], "province")
    assert not first_region_agrees([TIELING], [JIANGBEI, TIELING], "city")
    assert first_region_agrees([JIANGBEI], [{"province": "重庆市", "city": None}], "city")   # None == None
    assert not first_region_agrees([TIELING], [], "province")


def relevant_item():
    return {
        "id": "x-1", "category": "relevant", "spam": False, "input": {"text": "..."},
        "stories": [
            story("铁岭为基层干部减负", measures=["work_groups", "gov_apps"], regions=[TIELING],
                  figures=[{"value": 746, "unit": "个", "text": "微信工作群746个"},
                           {"value": 27.5, "unit": "%", "text": "减少27.5%"}]),
            story("辽阳发放918万元担保贷款支持创业", False),
        ],
    }


def test_score_item_counts_every_metric():
    output = {"id": "x-1", "spam": False, "stories": [
        story("铁岭为基层干部减负", measures=["work_groups", "inspections"], regions=[TIELING],
              figures=[{"value": 746, "unit": "个", "text": "取消、合并不必要的微信工作群746个"}]),
        story("辽阳发放918万元担保贷款支持创业", True),
    ]}
    evaluation = Evaluation(split="unit")
    score_item(evaluation, relevant_item(), output)
    assert (evaluation.recall.hits, evaluation.recall.total) == (1, 1)
    assert (evaluation.precision.hits, evaluation.precision.total) == (1, 2)   # the loan story is a false alarm
    assert (evaluation.province.value, evaluation.city.value) == (1.0, 1.0)
    assert (evaluation.figures.hits, evaluation.figures.total) == (1, 2)
    assert (evaluation.measures_tp, evaluation.measures_fp, evaluation.measures_fn) == (1, 1, 1)
    assert evaluation.measures_f1 == pytest.approx(0.5)
    assert evaluation.items_per_category == {"relevant": 1}


def test_unmatched_relevant_story_is_a_miss_everywhere():
    evaluation = Evaluation(split="unit")
    score_item(evaluation, relevant_item(), {"id": "x-1", "spam": False, "stories": [story("完全不同的一个标题", False)]})
    assert (evaluation.recall.hits, evaluation.recall.total) == (0, 1)
    assert evaluation.precision.total == 0
    assert (evaluation.province.hits, evaluation.city.hits, evaluation.figures.hits) == (0, 0, 0)
    assert evaluation.measures_fn == 2
    assert "no predicted story" in evaluation.failures["relevance_recall"][0]


def test_spam_recall_and_real_news_called_spam():
    spam = {"id": "s-1", "category": "spam", "spam": True, "input": {"text": "..."}, "stories": []}
    news = {"id": "n-1", "category": "injected", "spam": False, "input": {"text": "..."}, "stories": []}
    evaluation = Evaluation(split="unit")
    score_item(evaluation, spam, {"spam": True, "stories": []})
    score_item(evaluation, dict(spam, id="s-2"), {"spam": False, "stories": []})
    score_item(evaluation, news, {"spam": True, "stories": []})
    assert (evaluation.spam.hits, evaluation.spam.total) == (1, 2)
    assert evaluation.real_news_called_spam == 1
    metrics = evaluation.metrics()
    assert metrics["spam_recall"]["met"] is False
    assert metrics["real_news_called_spam"]["met"] is False
    assert not evaluation.all_targets_met


def test_evaluate_runs_an_analyzer_and_reports_targets():
    perfect = {"spam": False, "stories": [
        story("铁岭为基层干部减负", measures=["work_groups", "gov_apps"], regions=[TIELING],
              figures=[{"value": 746, "unit": "个", "text": "微信工作群746个"},
                       {"value": 27.5, "unit": "%", "text": "减少27.5%"}]),
        story("辽阳发放918万元担保贷款支持创业", False),
    ]}
    seen = []

    def analyze(record):
        seen.append(record)
        return {"id": record["id"], **perfect}

    evaluation = evaluate([relevant_item()], analyze, split="unit")
    assert seen == [{"id": "x-1", "text": "..."}]
    metrics = evaluation.metrics()
    assert metrics["relevance_precision"]["value"] == 1.0
    assert metrics["measures_micro_f1"]["value"] == 1.0
    assert metrics["spam_recall"]["value"] is None and metrics["spam_recall"]["met"] is None   # nothing to measure
    assert evaluation.all_targets_met
    assert to_json(evaluation)["all_targets_met"] is True


def test_analyze_input_is_the_contract_unless_source_info_is_asked_for():
    item = dict(relevant_item(), outlet="辽宁日报", home_region=TIELING)
    assert analyze_input(item) == {"id": "x-1", "text": "..."}
    assert analyze_input(item, with_source=True) == {"id": "x-1", "text": "...", "outlet": "辽宁日报",
                                                     "home_region": TIELING}


def test_heldout_files_are_test_only_whatever_the_ids_hash_to(tmp_path):
    from consumers.analysis.corpus import load_corpus, split_of

    train_id = next(f"x-{n}" for n in range(100) if split_of(f"x-{n}") == "train")
    other_id = next(f"y-{n}" for n in range(100) if split_of(f"y-{n}") == "train")
    (tmp_path / "heldout_batch.jsonl").write_text(f'{{"id": "{train_id}"}}\n', encoding="utf-8")
    (tmp_path / "train_batch.jsonl").write_text(f'{{"id": "{other_id}"}}\n', encoding="utf-8")
    assert [i["id"] for i in load_corpus("train", tmp_path)] == [other_id]
    assert [(i["id"], i["split"]) for i in load_corpus("test", tmp_path)] == [(train_id, "test")]
