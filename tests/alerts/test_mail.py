"""Rendering and SMTP: subjects, escaping, links, header safety, and how server answers are classed
(sending goes to a real aiosmtpd server on 127.0.0.1)."""

from __future__ import annotations

import email
import email.policy
from urllib.parse import unquote

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from newsmon import mail
from newsmon.mailcatcher import MailCatcher, free_port
from newsmon.settings import load_settings
from search.alerts.campaigns import best_figures, lead_summary
from search.alerts.sample import sample_campaign


@pytest.fixture
def smtp_settings():
    return load_settings(namespace="unit", kibana_url="http://127.0.0.1:5601", smtp_from="newsmon <alerts@newsmon.test>")


def test_subject_names_the_administration_and_up_to_three_measures():
    c = sample_campaign()
    assert mail.campaign_subject(c) == "新减负行动: 辽宁省铁岭市 · 微信工作群、政务APP、政务公众号"
    c["measures"] += ["forms_reports"]
    assert mail.campaign_subject(c) == "新减负行动: 辽宁省铁岭市 · 微信工作群、政务APP、政务公众号等4项"
    assert mail.campaign_subject({"region_name": "全国", "measures": ["other"]}) == "新减负行动: 全国 · 其他减负措施"


def test_header_values_cannot_carry_a_line_break(smtp_settings):
    rendered = mail.RenderedMail("标题\r\nBcc: victim@example.org\nX-Evil: 1", "text", "<p>html</p>")
    msg = mail.build_message(rendered, "analyst@example.org\r\nCc: other@example.org", smtp_settings, "id\r\n1",
                             {"X-Newsmon-Alert": "a\r\nX-Evil: 2"})
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    names = [k.lower() for k in parsed]
    assert "bcc" not in names and "cc" not in names and "x-evil" not in names
    assert parsed["Subject"] == "标题 Bcc: victim@example.org X-Evil: 1"
    assert parsed["Message-ID"] == "<id1@newsmon.test>"
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]


@pytest.mark.parametrize("url, ok", [
    ("https://epaper.lnd.com.cn/a.html", True), ("http://127.0.0.1:8765/x?y=1", True),
    ("javascript:alert(1)", False), ("JaVaScRiPt:alert(1)", False), ("data:text/html,<script>", False),
    ("//evil.example/x", False), ("https://ok.example/\r\nX: y", False), ("https:///nohost", False),
    ("ftp://files.example/x", False), (None, False), ("http://a.example/<b>", True),
])
def test_only_absolute_http_urls_become_links(url, ok):
    assert (mail.http_url(url) is not None) is ok


def test_rendered_alert_escapes_every_story_field_and_links_kibana(smtp_settings):
    c = sample_campaign()
    c["title"] = "<script>alert(1)</script>"
    c["story_details"][0].update(title='"><img src=x onerror=alert(1)>', outlet="<b>报</b>",
                                 url='https://x.example/"onmouseover="alert(1)')
    c["best_figures"][0]["text"] = "共取消<i>746</i>个"
    rendered = mail.render_campaign_alert(c, smtp_settings, "analyst@example.org", "全部")
    html = rendered.html
    assert "<script" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="https://x.example/&quot;onmouseover=&quot;alert(1)"' in html
    assert "共取消&lt;i&gt;<strong>746</strong>&lt;/i&gt;个" in html
    kibana = mail.kibana_discover_url(smtp_settings.kibana_url, c)
    assert kibana.startswith("http://127.0.0.1:5601/app/discover#/?_g=")
    decoded = unquote(kibana)
    assert "index:'newsmon-articles'" in decoded and "query:'id:(\"sample-tieling-1\")'" in decoded
    assert "from:'2018-11-13T00:00:00+08:00',to:now" in decoded
    assert f'href="{mail.esc(kibana)}"' in html and kibana in rendered.text


def test_figure_values_are_shown_with_their_units_and_the_lead_loses_its_dateline():
    assert mail.format_value(746, "个") == "746个" and mail.format_value(27.5, "%") == "27.5%"
    text = ("本报讯 记者姜义双报道 针对过多、过滥的微信工作群、政务APP给基层干部的工作和生活带来不必要负担的问题,"
            "铁岭市自9月开始清理规范微信工作群、政务APP。截至11月12日,全州市、县两级机关共取消、合并不必要的微信工作群746个。"
            "调查了解到,很多基层干部加入的微信工作群过多。")
    summary = lead_summary(text)
    assert summary.startswith("针对过多、过滥") and summary.endswith("。") and len(summary) <= 200
    figures = [{"what": "a", "value": 1, "unit": "个", "measure": "other", "story_id": "s2"},
               {"what": "b", "value": 2, "unit": "个", "measure": "work_groups", "story_id": "s2"},
               {"what": "b", "value": 2, "unit": "个", "measure": "work_groups", "story_id": "s1"},
               {"what": "c", "value": 3, "unit": "%", "measure": None, "story_id": "s1"}]
    assert [(f["what"], f["story_id"]) for f in best_figures(figures, ["work_groups"], ["s1", "s2"])] == [
        ("c", "s1"), ("b", "s2"), ("a", "s2")]


class _Refuse:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        return "550 5.1.1 no such user" if address.startswith("gone") else "451 4.3.0 try again later"


def test_refused_recipients_fail_for_good_or_for_now(smtp_settings):
    port = free_port()
    controller = Controller(_Refuse(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        s = smtp_settings.model_copy(update={"smtp_port": port})
        msg = mail.build_message(mail.RenderedMail("s", "t", "<p>h</p>"), "gone@example.org", s, "m1")
        with pytest.raises(mail.SendError) as gone:
            mail.send_message(s, msg, "gone@example.org")
        assert gone.value.permanent and "550" in str(gone.value)
        with pytest.raises(mail.SendError) as later:
            mail.send_message(s, msg, "busy@example.org")
        assert not later.value.permanent and "451" in str(later.value)
    finally:
        controller.stop()
    with pytest.raises(mail.SendError) as down:
        mail.send_message(s, msg, "busy@example.org")
    assert not down.value.permanent and "unavailable" in str(down.value)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_uses_the_secret_and_never_shows_it(smtp_settings):
    def authenticate(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=auth_data.login == b"newsmon" and auth_data.password == b"s3cret-pw")

    port = free_port()
    caught = MailCatcher(port=port)
    # AUTH without TLS on loopback only, because the test has no certificate
    controller = Controller(caught_handler(caught), hostname="127.0.0.1", port=port, authenticator=authenticate,
                            auth_require_tls=False, auth_required=True)
    controller.start()
    try:
        good = smtp_settings.model_copy(update={"smtp_port": port, "smtp_user": "newsmon"})
        good = good.model_copy(update={"smtp_password": load_settings(smtp_password="s3cret-pw").smtp_password})
        msg = mail.build_message(mail.RenderedMail("s", "t", "<p>h</p>"), "a@example.org", good, "m2")
        mail.send_message(good, msg, "a@example.org")
        assert len(caught.messages) == 1
        assert "s3cret-pw" not in repr(good) and good.masked()["smtp_password"] == "********"
    finally:
        controller.stop()


def caught_handler(catcher: MailCatcher):
    from newsmon.mailcatcher import _Handler

    return _Handler(catcher._store)
