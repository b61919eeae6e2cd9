"""The campaign rules without I/O: which stories share a campaign, and which start a new one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from newsmon.schemas import MEASURES, Region, Story
from search.alerts.grouping import administrations, campaign_id, file_story, forms_campaigns, story_measures

LOOKBACK = timedelta(days=180)
T0 = datetime(2025, 3, 12, tzinfo=UTC)
TIELING = Region(province="辽宁省", city="铁岭市", adcode="211200")


def story(sid: str, measures=("work_groups",), regions=(TIELING,), cluster=None, **kw) -> Story:
    return Story(id=sid, title=f"story {sid}", text="", relevant=True, measures=list(measures),
                 regions=list(regions), cluster_id=cluster, **kw)


def file_all(items):
    entries, outcome = [], []
    for s, when in items:
        [adm] = administrations(s)
        entry, created = file_story(entries, adm, s, when, LOOKBACK)
        outcome.append((entry.campaign_id, created))
    return entries, outcome


def test_overlapping_measures_within_the_lookback_join_the_first_campaign():
    entries, outcome = file_all([
        (story("a", ["work_groups", "gov_apps"]), T0),
        (story("b", ["gov_apps"]), T0 + timedelta(days=170)),
        (story("c", ["work_groups"]), T0 + timedelta(days=340)),   # within 180 days of b: still the same
    ])
    first = campaign_id("adcode:211200", "a")
    assert outcome == [(first, True), (first, False), (first, False)]
    assert entries[0].measures == {"work_groups", "gov_apps"}


def test_disjoint_measures_or_a_gap_longer_than_the_lookback_start_new_campaigns():
    _, outcome = file_all([
        (story("a"), T0),
        (story("meetings", ["meetings_documents"]), T0 + timedelta(days=10)),
        (story("later", ["work_groups"]), T0 + timedelta(days=181)),
    ])
    assert [created for _, created in outcome] == [True, True, True]
    assert len({cid for cid, _ in outcome}) == 3


def test_an_earlier_story_arriving_late_joins_and_a_copy_joins_whatever_its_measures():
    entries, outcome = file_all([
        (story("a", cluster="k1"), T0),
        (story("earlier"), T0 - timedelta(days=30)),
        (story("copy", ["check_ins"], cluster="k1"), T0 + timedelta(days=1)),
    ])
    assert [created for _, created in outcome] == [True, False, False]
    assert entries[0].first_seen == T0 - timedelta(days=30)


def test_the_largest_overlap_wins_between_two_open_campaigns():
    _, outcome = file_all([
        (story("groups", ["work_groups"]), T0),
        (story("forms", ["forms_reports", "check_ins"]), T0),
        (story("both", ["work_groups", "forms_reports", "check_ins"]), T0 + timedelta(days=5)),
    ])
    assert outcome[2][0] == outcome[1][0]


def test_administrations_are_the_most_specific_listed_and_nations_are_keyed_by_document():
    liaoning = Region(province="辽宁省", adcode="210000")
    adms = administrations(story("x", regions=[liaoning, TIELING]))
    assert [a.key for a in adms] == ["adcode:211200"] and adms[0].name == "辽宁省铁岭市"
    assert adms[0].prefixes == ("21", "2112")
    by_name = administrations(story("y", regions=[Region(province="湖南省", city="长沙市", county="岳麓区")]))
    assert [a.key for a in by_name] == ["adcode:430104"]
    national = administrations(story("z", regions=[], policy_documents=["《关于解决形式主义突出问题为基层减负的通知》"]))
    assert [a.key for a in national] == ["national:关于解决形式主义突出问题为基层减负的通知"]
    assert national[0].name == "全国" and national[0].region is None


def test_commentaries_and_irrelevant_stories_form_no_campaign_and_no_measure_means_other():
    assert not forms_campaigns(story("c", kind="commentary"))
    assert not forms_campaigns(story("n").model_copy(update={"relevant": False}))
    assert story_measures(story("o", [])) == {"other"}


_stories = st.lists(st.tuples(
    st.sets(st.sampled_from(MEASURES), min_size=1, max_size=3),
    st.integers(min_value=-400, max_value=400),
    st.one_of(st.none(), st.sampled_from(["k1", "k2", "k3"])),
), min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(_stories, st.data())
def test_filing_a_story_again_never_starts_a_campaign_or_changes_one(specs, data):
    items = [(story(f"s{i}", sorted(m), cluster=k), T0 + timedelta(days=d)) for i, (m, d, k) in enumerate(specs)]
    entries, _ = file_all(items)
    before = [e.to_json() for e in entries]
    again = data.draw(st.sampled_from(items))
    [adm] = administrations(again[0])
    _, created = file_story(entries, adm, again[0], again[1], LOOKBACK)
    assert not created
    assert [e.to_json() for e in entries] == before
