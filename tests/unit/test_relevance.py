"""Relevance and measures: the seed pages' labelled stories, hand-written hard negatives (burden
reduction that is not about grassroots cadres, or 形式主义 without a measure), and segmentation."""

from __future__ import annotations

from pathlib import Path

import pytest

from consumers.analysis import segment
from consumers.analysis.relevance import classify_relevance, match_cues
from consumers.analysis.train_relevance import DEFAULT_SEEDS_DIR, seed_stories, split_by_titles
from newsmon.schemas import MEASURES

needs_seeds = pytest.mark.skipif(not (DEFAULT_SEEDS_DIR / "labels.json").exists(), reason="seed pages not here")


@pytest.fixture(scope="module")
def seeds():
    return seed_stories(DEFAULT_SEEDS_DIR)


# --- segmentation -------------------------------------------------------------------------------

@pytest.mark.parametrize("word", ["微信工作群", "指尖上的形式主义", "政务APP", "僵尸群", "基层减负",
                                  "为基层减负", "一表通", "工作专班", "督查检查考核"])
def test_domain_words_stay_whole(word):
    assert word in segment.cut(f"铁岭市集中清理{word}，推动工作落实")


def test_domain_words_carry_a_pos_tag():
    tags = dict(segment.tag("清理微信工作群，切实为基层减负"))
    assert tags["微信工作群"] == "n"
    assert tags["为基层减负"] == "vn"


def test_user_dict_line_parsing():
    assert segment.parse_user_dict_line("政务APP n") == ("政务APP", None, "n")
    assert segment.parse_user_dict_line("一表通 300 n") == ("一表通", 300, "n")
    assert segment.parse_user_dict_line("# comment") is None
    assert segment.parse_user_dict_line("   ") is None


# --- the seed pages -----------------------------------------------------------------------------

@needs_seeds
def test_every_seed_story_is_found(seeds):
    # 28 of the 29 labelled stories sit on a line of their own; 长阳两“清漂卫士” is inside a
    # hashtag line of a social-media block and stays with the story before it.
    assert len(seeds) == 28
    assert sum(s.relevant for s in seeds) == 6


@needs_seeds
def test_seed_stories_relevance_as_labelled(seeds):
    wrong = [(s.title, classify_relevance(s.title, s.text).score) for s in seeds
             if classify_relevance(s.title, s.text).relevant != s.relevant]
    assert wrong == []


@needs_seeds
def test_seed_measures_as_labelled(seeds):
    for story in seeds:
        result = classify_relevance(story.title, story.text)
        if story.relevant:
            assert result.measures == [m for m in MEASURES if m in story.measures], story.title
        else:
            assert result.measures == []


@needs_seeds
def test_commentary_beside_a_measure_report_is_relevant(seeds):
    commentary = next(s for s in seeds if s.title == "破除“指尖上的形式主义”")
    with_context = classify_relevance(commentary.title, commentary.text, page_has_relevant_story=True)
    assert with_context.relevant
    assert {"work_groups", "gov_apps"} <= set(with_context.measures)


@needs_seeds
def test_inspection_tour_story_is_not_relevant():
    # Seed 004 prints this story's body *before* its title; take the body as a reader would.
    text = (DEFAULT_SEEDS_DIR / "004_b70f7a28cb70b0c4.txt").read_text(encoding="utf-8")
    body = text[text.index("辽宁日报记者"):text.index("深化政治巡视 提升监督效能")]
    result = classify_relevance("深化政治巡视 提升监督效能", body)
    assert not result.relevant
    assert not classify_relevance("深化政治巡视 提升监督效能", body, page_has_relevant_story=True).relevant


@needs_seeds
def test_unrelated_stories_stay_unrelated_beside_a_relevant_one(seeds):
    for story in seeds:
        if not story.relevant:
            assert not classify_relevance(story.title, story.text, page_has_relevant_story=True).relevant, story.title


# --- hand-written cases -------------------------------------------------------------------------

RELEVANT = {
    "national policy": (
        "中办国办印发意见 持续精简规范会议文件和督查检查考核",
        "新华社北京电 近日，中共中央办公厅、国务院办公厅印发《关于进一步为基层减负的若干意见》。"
        "意见要求，严格控制发文数量和会议规模，能合并的会议一律合并召开；督查检查考核事项实行年度计划和审批报备，"
        "不得要求基层填报重复报表。意见强调，要持续整治“指尖上的形式主义”，清理整合政务应用程序和工作群，"
        "切实减轻基层干部负担。",
        {"meetings_documents", "inspections", "forms_reports", "work_groups", "gov_apps"},
    ),
    "county clean-up": (
        "青田县清理村级工作群 村干部手机“静”下来",
        "本报讯 今年以来，青田县委办公室牵头对乡镇（街道）、村（社区）使用的微信工作群开展集中清理，"
        "共解散、合并工作群860余个，村干部平均所在工作群由32个减少到9个。县里同时明确，不得要求村干部在群内打卡、"
        "晒工作照片，不得以在线时长评价工作。“群少了，走村入户的时间多了。”船寮镇一名村干部说。",
        {"work_groups", "check_ins"},
    ),
}

HARD_NEGATIVES = {
    "student burden": (
        "我市落实“双减”政策 中小学生书面作业总量明显下降",
        "本报讯 新学期以来，市教育局督促各中小学严格落实“双减”政策，小学一二年级不布置书面家庭作业，"
        "初中书面作业平均完成时间不超过90分钟。各校普遍开展课后服务，家长普遍反映孩子睡眠时间增加，学生课业负担明显减轻。",
    ),
    "teacher burden": (
        "我省出台措施为中小学教师减负 清理规范进校园事项",
        "本报讯 省教育厅日前印发通知，全面清理规范各类进校园活动和社会事务，严禁向学校摊派与教育教学无关的任务，"
        "精简涉及教师的填表报数，取消要求教师在工作群打卡、转发点赞的做法，让教师把更多精力用在教书育人上。",
    ),
    "tax and business burden": (
        "我市减税降费政策红利持续释放 上半年为企业减负12亿元",
        "本报讯 记者从市税务局获悉，上半年全市新增减税降费及退税缓费12.3亿元，惠及市场主体4.6万户。"
        "市里还规范涉企检查，推行“综合查一次”，为企业减负、为经营主体松绑，营商环境持续优化。",
    ),
    "weight loss": (
        "科学减肥别走进误区",
        "入夏以来，不少市民开始减肥。医生提醒，减重要循序渐进，每周体重下降0.5至1公斤为宜，"
        "过度节食会导致肌肉流失。建议控制总热量摄入，坚持有氧运动，减轻身体负担，避免反弹。",
    ),
    "carbon reduction": (
        "我市重点企业节能减排成效明显",
        "本报讯 今年以来，我市推动钢铁、化工等重点行业节能减排，淘汰落后产能，全市单位地区生产总值能耗下降4.1%，"
        "碳排放强度持续下降，为实现碳达峰碳中和目标打下基础。",
    ),
    "wechat group fraud": (
        "警惕！“投资理财微信群”里全是骗子",
        "近日，市民李女士被拉进一个“投资理财”微信群，群里“老师”每天推荐股票，不少群友晒出收益截图。"
        "李女士先后转账18万元后发现无法提现，群也解散了。民警提醒，不要轻信微信群里的高额回报，遇到诈骗及时报警。",
    ),
    "government app promotion": (
        "“皖事通”新版上线 可办理事项超过3000项",
        "本报讯 “皖事通”移动政务服务平台新版日前正式上线，新增社保、医保、公积金等200余项高频服务，"
        "群众下载注册后即可掌上办理，实现“一网通办”。目前平台注册用户已超过6000万。",
    ),
    "formalism essay": (
        "作风建设须久久为功",
        "形式主义、官僚主义是作风建设的大敌。一些干部热衷于表态多调门高，行动少落实差，把心思用在做表面文章上。"
        "我们要坚持以上率下，树立正确政绩观，把功夫下在察实情、出实招、办实事、求实效上，让干事创业蔚然成风。",
    ),
    "unrelated task force": (
        "我县组建重点项目招商专班 全力冲刺三季度",
        "本报讯 为加快重点项目建设，县里成立6个招商工作专班，由县领导挂帅，实行“一个项目、一个专班、一抓到底”。"
        "今年以来，全县新签约招商引资项目38个，协议总投资215亿元。",
    ),
    "inspection tour": (
        "十三届省委第五轮巡视完成进驻",
        "本报讯 近日，十三届省委第五轮巡视的12个巡视组完成进驻。巡视组将聚焦被巡视党组织职能责任，"
        "重点检查贯彻落实党中央决策部署情况，着力发现形式主义、官僚主义问题，巡视期间设立专门值班电话和邮政信箱。",
    ),
}


@pytest.mark.parametrize("name", sorted(RELEVANT))
def test_relevant_cases(name):
    title, text, measures = RELEVANT[name]
    result = classify_relevance(title, text)
    assert result.relevant, result.reasons
    assert measures <= set(result.measures)
    assert 0.5 <= result.score <= 1.0


@pytest.mark.parametrize("name", sorted(HARD_NEGATIVES))
def test_hard_negatives(name):
    title, text = HARD_NEGATIVES[name]
    result = classify_relevance(title, text)
    assert not result.relevant, (result.score, result.reasons)
    assert result.measures == []
    assert 0.0 <= result.score < 0.5


def test_reasons_name_the_cues():
    title, text, _ = RELEVANT["county clean-up"]
    reasons = " ".join(classify_relevance(title, text).reasons)
    assert "村干部" in reasons or "工作群" in reasons


# --- measure detection rules --------------------------------------------------------------------

def test_measure_needs_an_action_in_the_same_sentence():
    assert "work_groups" not in match_cues("", "基层干部加入的工作群越来越多。大家都很忙。").measures
    assert "work_groups" in match_cues("", "全区共解散工作群300个。").measures


def test_a_plan_is_not_a_measure_taken():
    assert "gov_apps" not in match_cues("", "下一步还将对社区使用的政务APP开展清理整合。").measures


def test_longer_cue_overrides_a_shorter_one():
    found = match_cues("", "不再要求提供会议照片作为留痕材料。").measures
    assert "check_ins" in found
    assert "meetings_documents" not in found


def test_paperwork_of_an_inspection_is_part_of_the_inspection():
    found = match_cues("", "督查检查以暗访为主，不得要求被检查单位准备汇报材料和专门台账。").measures
    assert "inspections" in found
    assert "forms_reports" not in found
    # in a clause of its own, the same ledger cut is a measure of its own
    assert "forms_reports" in match_cues("", "压减督查检查事项，同时清理村级台账20本。").measures


def test_the_app_of_a_check_in_is_not_an_app_measure():
    found = match_cues("", "不得要求社区工作者在政务APP上打卡签到。").measures
    assert set(found) == {"check_ins"}


def test_quotation_marks_do_not_hide_a_cue():
    assert "inspections" in match_cues("", "不得以「创建」为名向基层摊派费用。").measures


def test_the_masses_are_not_a_work_group():
    # 工作群众 = 工作 + 群众 (the masses), not 工作群 + 众
    assert "work_groups" not in match_cues("", "清理门户，做好联系服务工作群众满意。").measures


def test_split_by_titles_cuts_at_labelled_titles():
    text = "导航 | 首页\n\n第一篇标题在这里\n\n正文一。\n\n第二篇另一个标题\n\n正文二。"
    stories = split_by_titles(text, ["第一篇标题在这里", "第二篇另一个标题"])
    assert [(i, t, b) for i, t, b in stories] == [(0, "第一篇标题在这里", "正文一。"), (1, "第二篇另一个标题", "正文二。")]


def test_model_file_is_plain_json():
    import json

    from consumers.analysis.relevance import MODEL_PATH

    data = json.loads(Path(MODEL_PATH).read_text(encoding="utf-8"))
    assert data["kind"] == "logistic_regression"
    assert 0 < data["threshold"] < 1
    assert all(isinstance(w, float) for w in data["weights"].values())


@needs_seeds
def test_fast_inference_path_equals_the_training_features(seeds):
    from consumers.analysis.relevance import _contributions, model, story_features

    clf = model()
    for story in seeds:
        matches = match_cues(story.title, story.text)
        slow = clf.contributions(story_features(story.title, story.text, matches))
        assert _contributions(clf, story.title, story.text, matches) == pytest.approx(slow)
