"""Subscription input: addresses, regions, measures, queries; and which campaigns a filter takes."""

from __future__ import annotations

import pytest

from newsmon.es import make_es
from search.alerts.sample import sample_campaign
from search.alerts.subscriptions import (
    Subscription,
    SubscriptionError,
    SubscriptionStore,
    normalise_email,
    parse_measures,
    parse_regions,
)


@pytest.mark.parametrize("address, expected", [
    ("Analyst@Example.ORG", "analyst@example.org"), ("a.b+tag@sub.example.cn", "a.b+tag@sub.example.cn"),
    ("分析@例子.中国", None), ("user@例子.中国", "user@xn--fsqu00a.xn--fiqs8s"),
])
def test_addresses_are_normalised(address, expected):
    if expected is None:
        with pytest.raises(SubscriptionError):
            normalise_email(address)
    else:
        assert normalise_email(address) == expected


@pytest.mark.parametrize("address", ["", "no-at.example.org", "a@b", "a@@example.org", "a b@example.org",
                                     "a@example.org\r\nBcc: x@example.org", ".a@example.org", "a..b@example.org",
                                     "a@-example.org", "a@example.123", "<a@example.org>", "a@exa_mple.org"])
def test_bad_addresses_are_refused_in_one_line(address):
    with pytest.raises(SubscriptionError) as err:
        normalise_email(address)
    assert "\n" not in str(err.value) and "invalid e-mail address" in str(err.value)


def test_regions_and_measures_resolve_or_say_why_not():
    regions, national = parse_regions(["辽宁省", "铁岭", "211200", "全国"])
    assert [(r.name, r.code_prefix) for r in regions] == [("辽宁省", "21"), ("辽宁省铁岭市", "2112")]
    assert national
    with pytest.raises(SubscriptionError, match="unknown region '火星'"):
        parse_regions(["火星"])
    assert parse_measures(["work_groups", "政务APP", "WORK_GROUPS"]) == ["work_groups", "gov_apps"]
    with pytest.raises(SubscriptionError, match="unknown measure 'meetings'"):
        parse_measures(["meetings"])


def test_a_province_takes_its_counties_and_national_campaigns_need_asking_for():
    tieling = sample_campaign()
    county = sample_campaign() | {"regions": [{"adcode": "211221"}], "measures": ["meetings_documents"]}
    nation = sample_campaign() | {"regions": [], "scope": "national"}
    liaoning = Subscription(email="a@example.org", regions=parse_regions(["辽宁省"])[0])
    assert liaoning.matches_structure(tieling) and liaoning.matches_structure(county)
    assert not liaoning.matches_structure(nation)
    hubei = Subscription(email="a@example.org", regions=parse_regions(["湖北省"])[0])
    assert not hubei.matches_structure(tieling)
    national = Subscription(email="a@example.org", national=True)
    assert national.matches_structure(nation) and not national.matches_structure(tieling)
    groups = Subscription(email="a@example.org", measures=["work_groups"])
    assert groups.matches_structure(tieling) and not groups.matches_structure(county)
    assert Subscription(email="a@example.org").matches_structure(nation)


@pytest.mark.integration
def test_queries_are_judged_by_elasticsearch_and_subscribing_again_replaces(fresh_settings):
    es = make_es(fresh_settings)
    store = SubscriptionStore(es, fresh_settings)
    store.validate_query("工作群 AND (清理 OR 精简) AND NOT 广告")
    with pytest.raises(SubscriptionError, match="query does not parse: Cannot parse"):
        store.validate_query("工作群 AND (清理")
    with pytest.raises(SubscriptionError, match="query does not parse"):
        store.validate_query('title:"工作群')
    assert store.save(store.build("A@example.org", ["辽宁省"], [], "工作群", "daily")) is True
    store.set_paused("a@example.org", True)
    assert store.save(store.build("a@example.org", [], ["gov_apps"], None, "instant")) is False
    [sub] = store.all()
    assert (sub.email, sub.regions, sub.measures, sub.query, sub.mode, sub.paused) == (
        "a@example.org", [], ["gov_apps"], None, "instant", True)
    assert store.remove("a@example.org") and not store.remove("a@example.org")
    es.close()
