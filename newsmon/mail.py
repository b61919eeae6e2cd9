"""E-mail: rendering campaign alerts, daily digests and admin notices, and sending them by SMTP.

Everything that comes from a crawled page (titles, outlets, figures, URLs) is untrusted:
- header values are built from collapsed single-line text, so CR/LF can never start a header;
- HTML is escaped piece by piece (`html.escape`), never by a template that could forget;
- only http(s) URLs become links; anything else is shown as plain text.
"""

from __future__ import annotations

import html
import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from newsmon.schemas import MEASURE_LABELS_ZH
from newsmon.settings import Settings

CHINA_TZ = ZoneInfo("Asia/Shanghai")
# The Kibana data view of `newsmon-articles` (saved object id shipped with the Kibana objects).
KIBANA_ARTICLES_DATA_VIEW = "newsmon-articles"
SMTP_TIMEOUT = 30.0
SUBJECT_MEASURES = 3


@dataclass(frozen=True, slots=True)
class RenderedMail:
    subject: str
    text: str
    html: str


class SendError(Exception):
    """The SMTP server did not take the message. `permanent`: retrying cannot help (recipient refused)."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


# ---------------------------------------------------------------------------------------- safety
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u0085]+")


def one_line(text: str | None, limit: int = 300) -> str:
    """Single-line text: every control character (CR, LF, TAB...) becomes a space."""
    flat = " ".join(_CONTROL.sub(" ", text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def http_url(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) URL without whitespace or control characters, else None."""
    if not url or _CONTROL.search(url) or any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def esc(text: Any) -> str:
    return html.escape("" if text is None else str(text), quote=True)


# ---------------------------------------------------------------------------------------- pieces
def measure_labels(measures: list[str]) -> list[str]:
    return [MEASURE_LABELS_ZH.get(m, m) for m in measures]


def campaign_subject(campaign: dict[str, Any]) -> str:
    labels = measure_labels(campaign.get("measures", []))
    shown = "、".join(labels[:SUBJECT_MEASURES]) + (f"等{len(labels)}项" if len(labels) > SUBJECT_MEASURES else "")
    return one_line(f"新减负行动: {campaign.get('region_name') or '全国'} · {shown}", 200)


def format_value(value: float, unit: str) -> str:
    number = f"{int(value)}" if float(value).is_integer() else f"{value:g}"
    return f"{number}{one_line(unit, 20)}"


def local_date(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        when = datetime.fromisoformat(iso)
    except ValueError:
        return ""
    if when.tzinfo is not None:
        when = when.astimezone(CHINA_TZ)
    return when.strftime("%Y-%m-%d")


def _rison_string(s: str) -> str:
    return "'" + s.replace("!", "!!").replace("'", "!'") + "'"


def kibana_discover_url(kibana_url: str, campaign: dict[str, Any]) -> str:
    """Kibana Discover showing the campaign's stories (by story id) since a day before it began."""
    ids = [i for i in campaign.get("stories", []) if re.fullmatch(r"[A-Za-z0-9_-]+", i)][:100]
    kql = "id:(" + " or ".join(f'"{i}"' for i in ids) + ")" if ids else ""
    start = campaign.get("first_seen")
    try:
        since = (datetime.fromisoformat(start) - timedelta(days=1)).isoformat() if start else "now-1y"
    except ValueError:
        since = "now-1y"
    g = f"(time:(from:{_rison_string(since)},to:now))"
    a = (f"(index:{_rison_string(KIBANA_ARTICLES_DATA_VIEW)},"
         f"query:(language:kuery,query:{_rison_string(kql)}))")
    safe = "(),:!'"
    return f"{kibana_url}/app/discover#/?_g={quote(g, safe=safe)}&_a={quote(a, safe=safe)}"


def _figure_sentence_html(fig: dict[str, Any]) -> str:
    """The figure's sentence with its number in bold (escaped around the number)."""
    text = fig.get("text") or ""
    value = float(fig.get("value", 0))
    number = f"{int(value)}" if value.is_integer() else f"{value:g}"
    at = text.find(number)
    if at < 0:
        return esc(text)
    return f"{esc(text[:at])}<strong>{esc(number)}</strong>{esc(text[at + len(number):])}"


# ---------------------------------------------------------------------------------------- campaign
def _campaign_text(c: dict[str, Any], kibana: str) -> str:
    lines = [f"地区: {one_line(c.get('region_name'))}",
             f"措施: {'、'.join(measure_labels(c.get('measures', [])))}",
             f"首次报道: {local_date(c.get('first_seen'))}    报道 {c.get('story_count', 0)} 篇 · "
             f"媒体 {len(c.get('outlets', []))} 家"]
    if c.get("policy_documents"):
        lines.append("政策文件: " + "、".join(f"《{one_line(d, 80)}》" for d in c["policy_documents"]))
    lines += ["", one_line(c.get("title"), 200)]
    if c.get("summary"):
        lines.append(one_line(c.get("summary"), 400))
    if c.get("best_figures"):
        lines += ["", "关键数字:"]
        for f in c["best_figures"]:
            lines.append(f"  · {format_value(f['value'], f.get('unit', ''))} {one_line(f.get('what'), 80)}"
                         f" —— “{one_line(f.get('text'), 200)}”")
    lines += ["", "报道:"]
    for s in c.get("story_details", []):
        meta = " · ".join(x for x in (one_line(s.get("outlet"), 60), local_date(s.get("published_at"))) if x)
        lines.append(f"  · {one_line(s.get('title'), 200)} ({meta})")
        lines.append(f"    {http_url(s.get('url')) or '(无链接)'}")
    lines += ["", f"在 Kibana 中查看: {kibana}"]
    return "\n".join(lines)


_CHIP = ("display:inline-block;margin:0 6px 6px 0;padding:3px 10px;border-radius:12px;"
         "background:rgba(255,255,255,.18);color:#fff;font-size:13px")


def _campaign_html(c: dict[str, Any], kibana: str) -> str:
    chips = "".join(f'<span style="{_CHIP}">{esc(label)}</span>' for label in measure_labels(c.get("measures", [])))
    facts = [("首次报道", esc(local_date(c.get("first_seen")))),
             ("报道", f"{int(c.get('story_count', 0))} 篇 · 媒体 {len(c.get('outlets', []))} 家")]
    if c.get("policy_documents"):
        facts.append(("政策文件", "<br>".join(f"《{esc(one_line(d, 80))}》" for d in c["policy_documents"])))
    facts_html = "".join(
        f'<tr><td style="padding:3px 12px 3px 0;color:#6b7280;white-space:nowrap;vertical-align:top">{k}</td>'
        f'<td style="padding:3px 0;color:#111827">{v}</td></tr>' for k, v in facts)
    figures = ""
    if c.get("best_figures"):
        rows = "".join(
            '<tr><td style="width:1%;padding:8px 16px 8px 0;vertical-align:top;white-space:nowrap;font-size:22px;'
            f'font-weight:bold;color:#b91c1c">{esc(format_value(f["value"], f.get("unit", "")))}</td>'
            f'<td style="padding:8px 0;vertical-align:top"><div style="font-weight:bold;color:#111827">'
            f'{esc(one_line(f.get("what"), 80))}</div><div style="color:#4b5563;font-size:14px;margin-top:2px">'
            f'“{_figure_sentence_html(f)}”</div></td></tr>' for f in c["best_figures"])
        figures = (f'<h3 style="margin:22px 0 6px;font-size:15px;color:#374151">关键数字</h3>'
                   f'<table style="border-collapse:collapse;width:100%">{rows}</table>')
    items = []
    for s in c.get("story_details", []):
        url = http_url(s.get("url"))
        title = esc(one_line(s.get("title"), 200))
        link = (f'<a href="{esc(url)}" style="color:#1d4ed8;text-decoration:none">{title}</a>' if url
                else f"{title} <span style=\"color:#9ca3af\">(无链接)</span>")
        meta = " · ".join(esc(x) for x in (one_line(s.get("outlet"), 60), local_date(s.get("published_at"))) if x)
        items.append(f'<li style="margin:0 0 8px">{link}<div style="color:#6b7280;font-size:13px">{meta}</div></li>')
    summary = (f'<p style="margin:8px 0 0;color:#374151;line-height:1.6">{esc(one_line(c.get("summary"), 400))}</p>'
               if c.get("summary") else "")
    return f"""
<div style="border:1px solid #e5e7eb;border-radius:8px;overflow:hidden;margin:0 0 24px;background:#fff">
  <div style="background:#b91c1c;padding:16px 20px;color:#fff">
    <div style="font-size:12px;letter-spacing:1px;opacity:.85">新减负行动 · {esc(one_line(c.get("scope") == "national" and "全国" or "地方", 10))}</div>
    <div style="font-size:22px;font-weight:bold;margin:4px 0 10px">{esc(one_line(c.get("region_name"), 80))}</div>
    <div>{chips}</div>
  </div>
  <div style="padding:18px 20px">
    <div style="font-size:17px;font-weight:bold;color:#111827;line-height:1.5">{esc(one_line(c.get("title"), 200))}</div>
    {summary}
    <table style="border-collapse:collapse;margin-top:12px;font-size:14px">{facts_html}</table>
    {figures}
    <h3 style="margin:22px 0 8px;font-size:15px;color:#374151">报道</h3>
    <ol style="margin:0;padding-left:20px;font-size:15px">{"".join(items)}</ol>
    <div style="margin-top:20px"><a href="{esc(kibana)}" style="display:inline-block;padding:9px 16px;background:#1f2937;color:#fff;border-radius:6px;text-decoration:none;font-size:14px">在 Kibana 中查看全部报道</a></div>
  </div>
</div>"""


def _page(title: str, intro_html: str, body_html: str, footer_html: str) -> str:
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{esc(title)}</title></head>
<body style="margin:0;padding:0;background:#f3f4f6;font-family:-apple-system,'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif">
<div style="max-width:680px;margin:0 auto;padding:24px 16px">
{intro_html}{body_html}
<div style="color:#6b7280;font-size:12px;line-height:1.6">{footer_html}</div>
</div></body></html>"""


def _footer(email: str, why: str) -> tuple[str, str]:
    email, why = one_line(email, 200), one_line(why, 300)   # a query may hold line breaks
    text = (f"你收到这封邮件是因为 {email} 订阅了 newsmon 减负行动提醒({why})。\n"
            f"退订: newsmon alerts unsubscribe {email}    暂停: newsmon alerts pause {email}")
    html_ = (f"你收到这封邮件是因为 {esc(email)} 订阅了 newsmon 减负行动提醒({esc(why)})。<br>"
             f"退订: <code>newsmon alerts unsubscribe {esc(email)}</code> · 暂停: "
             f"<code>newsmon alerts pause {esc(email)}</code>")
    return text, html_


def render_campaign_alert(campaign: dict[str, Any], settings: Settings, email: str, why: str) -> RenderedMail:
    kibana = kibana_discover_url(settings.kibana_url, campaign)
    subject = campaign_subject(campaign)
    foot_text, foot_html = _footer(email, why)
    text = f"{subject}\n\n{_campaign_text(campaign, kibana)}\n\n--\n{foot_text}\n"
    return RenderedMail(subject, text, _page(subject, "", _campaign_html(campaign, kibana), foot_html))


def render_digest(campaigns: list[dict[str, Any]], settings: Settings, email: str, why: str,
                  day: str) -> RenderedMail:
    subject = one_line(f"减负行动日报 {day}: {len(campaigns)} 个新行动", 200)
    index_lines = [f"{i}. {campaign_subject(c).removeprefix('新减负行动: ')}" for i, c in enumerate(campaigns, 1)]
    sections_text = "\n\n==========\n\n".join(
        _campaign_text(c, kibana_discover_url(settings.kibana_url, c)) for c in campaigns)
    foot_text, foot_html = _footer(email, why)
    text = f"{subject}\n\n" + "\n".join(index_lines) + f"\n\n==========\n\n{sections_text}\n\n--\n{foot_text}\n"
    intro = (f'<div style="font-size:20px;font-weight:bold;color:#111827;margin:0 0 4px">减负行动日报 · {esc(day)}</div>'
             f'<div style="color:#4b5563;margin:0 0 16px">{len(campaigns)} 个新行动: '
             + "、".join(esc(one_line(c.get("region_name"), 40)) for c in campaigns) + "</div>")
    body = "".join(_campaign_html(c, kibana_discover_url(settings.kibana_url, c)) for c in campaigns)
    return RenderedMail(subject, text, _page(subject, intro, body, foot_html))


def render_quiet_source(source: dict[str, Any], cycles: int, quiet_since: str | None) -> RenderedMail:
    name = one_line(source.get("name") or source.get("id"), 100)
    subject = one_line(f"[newsmon] 信源沉寂: {name} 连续 {cycles} 次抓取没有新文章", 200)
    last = source.get("last_crawl") or {}
    facts = [("信源", f"{name} ({one_line(source.get('id'), 80)})"), ("媒体", one_line(source.get("outlet"), 80)),
             ("沉寂开始", local_date(quiet_since) or "?"), ("最近一次抓取", f"{one_line(last.get('status'), 20)}, "
              f"{int(last.get('pages') or 0)} 页, {int(last.get('errors') or 0)} 个错误")]
    samples = [one_line(e, 200) for e in (last.get("error_samples") or [])[:3]]
    hint = f"检查: newsmon source show {one_line(source.get('id'), 80)}"
    text = subject + "\n\n" + "\n".join(f"{k}: {v}" for k, v in facts) + (
        "\n错误示例:\n" + "\n".join(f"  · {s}" for s in samples) if samples else "") + f"\n\n{hint}\n"
    rows = "".join(f"<tr><td style='padding:3px 12px 3px 0;color:#6b7280'>{esc(k)}</td><td>{esc(v)}</td></tr>"
                   for k, v in facts)
    errs = "".join(f"<li>{esc(s)}</li>" for s in samples)
    body = (f"<div style='background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:18px 20px;margin:0 0 20px'>"
            f"<div style='font-size:18px;font-weight:bold;margin:0 0 10px'>{esc(subject)}</div>"
            f"<table style='border-collapse:collapse;font-size:14px'>{rows}</table>"
            + (f"<ul style='color:#991b1b;font-size:13px'>{errs}</ul>" if errs else "")
            + f"<p style='font-size:14px'><code>{esc(hint)}</code></p></div>")
    return RenderedMail(subject, text, _page(subject, "", body, "newsmon 管理员通知"))


# ---------------------------------------------------------------------------------------- sending
def envelope_sender(settings: Settings) -> str:
    return parseaddr(settings.smtp_from)[1] or "newsmon@localhost"


def build_message(mail: RenderedMail, to: str, settings: Settings, message_id: str,
                  extra_headers: dict[str, str] | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = one_line(settings.smtp_from)
    msg["To"] = one_line(to)
    msg["Subject"] = one_line(mail.subject, 200)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    domain = envelope_sender(settings).rpartition("@")[2] or "localhost"
    msg["Message-ID"] = f"<{re.sub(r'[^A-Za-z0-9.-]', '', message_id)}@{domain}>"
    msg["Auto-Submitted"] = "auto-generated"
    for name, value in (extra_headers or {}).items():
        msg[name] = one_line(value)
    msg.set_content(mail.text, charset="utf-8")
    msg.add_alternative(mail.html, subtype="html", charset="utf-8")
    return msg


def send_message(settings: Settings, msg: EmailMessage, to: str) -> None:
    """Hand the message to the SMTP server; returns once it accepted it, raises SendError otherwise."""
    context = ssl.create_default_context()
    try:
        if settings.smtp_security == "ssl":
            client = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT, context=context)
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT)
        with client:
            client.ehlo()
            if settings.smtp_security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if settings.smtp_user:
                password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                client.login(settings.smtp_user, password)
            client.send_message(msg, from_addr=envelope_sender(settings), to_addrs=[to])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(f"{code} {_decode(resp)}" for code, resp in exc.recipients.values())
        raise SendError(f"recipient refused: {detail}", permanent=all(c >= 500 for c in codes)) from None
    except smtplib.SMTPDataError as exc:
        raise SendError(f"message refused: {exc.smtp_code} {_decode(exc.smtp_error)}",
                        permanent=exc.smtp_code >= 500) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise SendError(f"SMTP login failed for user {settings.smtp_user!r}: {exc.smtp_code}") from None
    except smtplib.SMTPResponseException as exc:
        raise SendError(f"SMTP error {exc.smtp_code} {_decode(exc.smtp_error)}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise SendError(f"SMTP server {settings.smtp_host}:{settings.smtp_port} unavailable: "
                        f"{type(exc).__name__}: {exc}") from None


def _decode(resp: bytes | str) -> str:
    return one_line(resp.decode("utf-8", "replace") if isinstance(resp, bytes) else str(resp), 200)
