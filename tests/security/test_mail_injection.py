"""E-mail header and HTML injection through the alert mail path (newsmon/mail.py: render → build →
SMTP), received by a real SMTP server (aiosmtpd, newsmon/mailcatcher.py) on 127.0.0.1.

tests/alerts/test_delivery.py already sends a story with a CR/LF + Bcc title, a javascript: URL and
HTML in a figure through the whole alerter; here every other field that reaches a mail — region,
campaign title, summary, policy documents, figures, outlets, source names and error samples of the
admin notice, the digest — is hostile at once, for each kind of mail, and the raw message as
received is checked: one recipient, exactly our headers, no live HTML, links only http(s)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from newsmon import mail
from newsmon.mailcatcher import MailCatcher
from newsmon.settings import load_settings
from search.alerts.sample import sample_campaign
from search.alerts.subscriptions import SubscriptionError, normalise_email

INJECT = "\r\nBcc: victim@example.org\r\nX-Injected: yes\r\n\r\n<script>alert(1)</script>"
EXPECTED_HEADERS = {"from", "to", "subject", "date", "message-id", "auto-submitted", "x-newsmon-alert",
                    "content-type", "mime-version"}
TEMPLATE_TAGS = {"html", "head", "meta", "title", "body", "div", "span", "table", "tr", "td", "h3", "ol", "ul", "li",
                 "a", "strong", "code", "br", "p"}


def hostile_campaign() -> dict:
    c = sample_campaign()
    c.update(region_name="铁岭市" + INJECT, title="清理工作群" + INJECT, summary="摘要<img src=x onerror=alert(1)>",
             policy_documents=["《通知》\r\nCc: other@example.org", "<iframe src=javascript:alert(1)>"],
             outlets=["<b>报</b>"])
    c["best_figures"] = [{"what": "<svg onload=alert(1)>", "value": 746, "unit": "个\r\nX-Unit: 1",
                          "text": "微信工作群746个<a href='javascript:alert(1)'>x</a>"}]
    for s in c["story_details"]:
        s.update(title=s["title"] + INJECT, outlet="辽宁日报\nCc: other@example.org", url="javascript:alert(1)")
    c["story_details"].append({"title": "正常", "outlet": "新华社", "url": "https://news.example.org/a?x=1&y=<2>",
                               "published_at": "2025-03-12T08:00:00+00:00"})
    return c


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs += [(k, v or "") for k, v in attrs]


def check_received(caught, to: str) -> None:
    assert caught.rcpt_tos == (to,)
    msg = caught.message
    names = {k.lower() for k in msg}
    assert names <= EXPECTED_HEADERS, names - EXPECTED_HEADERS
    assert msg["To"] == to and "\n" not in msg["Subject"] and "\r" not in msg["Subject"]
    # on the wire: every header line is one of ours or a folded continuation (starts with white space)
    raw_headers = caught.raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode("ascii", "replace")
    for line in raw_headers.split("\n"):
        assert line[:1] in (" ", "\t") or line.split(":", 1)[0].lower() in EXPECTED_HEADERS, line
    html = caught.part("html")
    parsed = _Tags()
    parsed.feed(html)
    assert parsed.tags <= TEMPLATE_TAGS, parsed.tags - TEMPLATE_TAGS
    assert not [k for k, _ in parsed.attrs if k.startswith("on")]
    hrefs = [v for k, v in parsed.attrs if k in ("href", "src")]
    assert all(v.startswith(("https://", "http://")) for v in hrefs), hrefs
    assert not [v for _, v in parsed.attrs if "javascript:" in v.lower()]   # as text it is harmless
    assert "&lt;script&gt;" in html or "&lt;img" in html or "&lt;svg" in html
    text = caught.part("plain")
    assert "\nBcc:" not in text and "\nCc:" not in text


@pytest.fixture
def catcher():
    with MailCatcher() as c:
        yield c


@pytest.fixture
def smtp(catcher):
    return load_settings(smtp_host="127.0.0.1", smtp_port=catcher.port, smtp_security="none",
                         smtp_from="newsmon <alerts@newsmon.test>", kibana_url="http://127.0.0.1:5601")


def send(settings, rendered: mail.RenderedMail, to: str, ident: str) -> None:
    msg = mail.build_message(rendered, to, settings, ident + "\r\nBcc: x@example.org",
                             {"X-Newsmon-Alert": ident + INJECT})
    mail.send_message(settings, msg, to)


def test_campaign_alert_digest_and_admin_notice_carry_no_injection(smtp, catcher):
    to = "analyst@example.org"
    why = "订阅条件" + INJECT
    send(smtp, mail.render_campaign_alert(hostile_campaign(), smtp, to, why), to, "a1")
    send(smtp, mail.render_digest([hostile_campaign(), hostile_campaign()], smtp, to, why, "2025-03-12" + INJECT),
         to, "d1")
    source = {"id": "src\r\nBcc: v@example.org", "name": "<script>alert(1)</script>信源" + INJECT, "outlet": INJECT,
              "last_crawl": {"status": "failed\r\nX-Injected: 1", "pages": 3, "errors": 2,
                             "error_samples": ["<img src=x onerror=alert(1)>", "refused http://10.0.0.1/" + INJECT]}}
    send(smtp, mail.render_quiet_source(source, 5, "2025-03-01T00:00:00+00:00"), "admin@example.org", "q1")
    got = catcher.wait_for(3)
    assert len(got) == 3
    for caught, rcpt in zip(got, [to, to, "admin@example.org"], strict=True):
        check_received(caught, rcpt)
    assert "铁岭市 Bcc: victim@example.org X-Injected: yes <script>alert(1)</script>" in got[0].subject
    for caught in got[:2]:   # the one good story URL and Kibana are the only links
        assert 'href="https://news.example.org/a?x=1&amp;y=&lt;2&gt;"' in caught.part("html")


@pytest.mark.parametrize("address", [
    "a@example.org\r\nBcc: victim@example.org", "a@example.org\nCc: b@example.org", "a@example.org, b@example.org",
    "a@example.org;b@example.org", "<a@example.org>", "a@example.org\x00", "\"a\r\nb\"@example.org", "",
])
def test_hostile_subscriber_addresses_are_refused(address):
    with pytest.raises(SubscriptionError):
        normalise_email(address)
