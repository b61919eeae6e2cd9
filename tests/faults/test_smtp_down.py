"""The SMTP server stopped while campaigns arrive: the alerter (`newsmon consume alerter`, a real
process) keeps the unsent alerts pending and retries them; once the server is back every campaign's
e-mail reaches each matching subscriber exactly once, and nothing goes out twice."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from newsmon.es import make_es
from newsmon.kafka import dumps, ensure_topics
from newsmon.mailcatcher import MailCatcher
from newsmon.settings import INDEX_CAMPAIGNS, TOPIC_ARTICLES
from search.alerts.records import AlertRecords, alert_id
from search.alerts.subscriptions import SubscriptionStore
from tests.alerts.corpus import administrations_of, fixture_stories, seed_stories
from tests.faults.harness import produce, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

SUBSCRIBERS = [("all@example.org", [], []), ("liaoning@example.org", ["辽宁省"], []),
               ("groups@example.org", [], ["work_groups"])]
FAST_RETRIES = {"NEWSMON_ALERTS_RETRY_BASE_SECONDS": "1", "NEWSMON_ALERTS_RETRY_MAX_SECONDS": "3",
                "NEWSMON_ALERTS_TIMER_SECONDS": "0.5"}


def test_smtp_down_while_campaigns_arrive_each_mail_delivered_once(fault_settings, stages, seeds_dir):
    s = fault_settings
    ensure_topics(s, [TOPIC_ARTICLES])
    es = make_es(s)
    subscriptions = SubscriptionStore(es, s)
    for email, regions, measures in SUBSCRIBERS:
        subscriptions.save(subscriptions.build(email, regions, measures, None, "instant"))
    records = AlertRecords(es, s)
    before, during = fixture_stories(), seed_stories(seeds_dir)   # each brings campaigns of its own
    new_during = administrations_of(before + during) - administrations_of(before)
    assert new_during, "the second wave must start new campaigns"

    with MailCatcher() as catcher:
        alerter = stages("alerter", env={"NEWSMON_SMTP_HOST": "127.0.0.1", "NEWSMON_SMTP_PORT": str(catcher.port),
                                         "NEWSMON_SMTP_SECURITY": "none", **FAST_RETRIES})
        alerter.wait_consuming()
        produce(s, TOPIC_ARTICLES, [(st.id, dumps(st.model_dump(mode="json"))) for st in before])
        wait_until(lambda: _all_sent(records) and len(catcher.messages) == len(records.history(limit=1000)), 120,
                   "the first campaigns mailed", alerter.output)
        mailed_before = len(catcher.messages)

        catcher.stop()
        produce(s, TOPIC_ARTICLES, [(st.id, dumps(st.model_dump(mode="json"))) for st in during])
        # the new campaigns' alerts are tried, refused, and wait for a retry; hold the server down
        # for a few more retry rounds
        wait_until(lambda: len(_failed_attempts(records)) >= len(new_during), 120, "alerts refused while SMTP is down",
                   lambda: f"{records.history(limit=1000)}\n{alerter.output()}")
        time.sleep(6)
        refused = _failed_attempts(records)
        catcher.start()

        wait_until(lambda: _all_sent(records), 120, "every alert sent after SMTP is back",
                   lambda: f"{Counter(r['status'] for r in records.history(limit=1000))}\n{alerter.output()}")
        time.sleep(3)  # anything sent twice would arrive now
        mails = list(catcher.messages)
        assert alerter.alive, alerter.output()
        assert alerter.stop() == 0, alerter.output()

    es.indices.refresh(index=s.index(INDEX_CAMPAIGNS))
    campaigns = [h["_source"] for h in es.search(index=s.index(INDEX_CAMPAIGNS), size=1000)["hits"]["hits"]]
    subs = subscriptions.active()
    expected = Counter(alert_id("campaign", c["id"], sub.email) for c in campaigns for sub in subs
                       if sub.matches_structure(c))
    delivered = Counter(m.message["X-Newsmon-Alert"] for m in mails)
    history = records.history(limit=1000)
    summary = (f"{len(before) + len(during)} stories, {len(campaigns)} campaigns ({len(new_during)} new while "
               f"SMTP was down), {len(subs)} subscribers; e-mails expected {sum(expected.values())}, delivered "
               f"{len(mails)} ({mailed_before} before the outage), distinct {len(delivered)}, twice "
               f"{sum(n > 1 for n in delivered.values())}; refused while down {len(refused)} alerts in "
               f"{sum(r['attempts'] for r in refused)} attempts; records {Counter(r['status'] for r in history)}")
    print(f"\n[faults] smtp down: {summary}")

    assert len(campaigns) == len(administrations_of(before + during)), summary
    assert delivered == expected, summary                        # each (campaign, subscriber) once
    assert {r["id"] for r in history} == set(expected) and {r["status"] for r in history} == {"sent"}, summary
    retried = {r["id"] for r in refused}
    assert all(r["attempts"] >= 2 for r in history if r["id"] in retried), summary
    for m in mails:   # the right subscriber got it
        assert m.rcpt_tos == (next(r["email"] for r in history if r["id"] == m.message["X-Newsmon-Alert"]),)


def _all_sent(records: AlertRecords) -> bool:
    history = records.history(limit=1000)
    return bool(history) and all(r["status"] == "sent" for r in history)


def _failed_attempts(records: AlertRecords) -> list[dict]:
    """Alerts tried and refused (pending for a retry, with the SMTP error)."""
    return [r for r in records.history(limit=1000) if r["status"] == "pending" and r["attempts"] >= 1
            and r["last_error"]]
