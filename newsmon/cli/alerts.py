"""`newsmon alerts ...`: subscriptions, campaigns, what was sent; and `newsmon mailcatcher`."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
from rich.table import Table

from newsmon.cli import CliError
from newsmon.cli._common import console, settings
from newsmon.schemas import MEASURES

alerts_app = typer.Typer(
    help="E-mail alerts about new burden-reduction campaigns: subscriptions, campaigns, delivery history.\n\n"
    "Example: newsmon alerts subscribe analyst@example.org --region 辽宁省 --measure work_groups --mode daily",
    no_args_is_help=True,
)


def _es():
    from elastic_transport import ConnectionError as EsConnectionError

    from newsmon.es import make_es

    s = settings()
    es = make_es(s)
    try:
        es.cluster.health(timeout="5s")
    except EsConnectionError:
        raise CliError(f"cannot reach Elasticsearch at {s.es_url_shown} (start it with: newsmon stack up)") from None
    return es


def _subscriptions():
    from search.alerts.subscriptions import SubscriptionStore

    return SubscriptionStore(_es(), settings())


def _address(email: str) -> str:
    from search.alerts.subscriptions import SubscriptionError, normalise_email

    try:
        return normalise_email(email)
    except SubscriptionError as exc:
        raise CliError(str(exc)) from None


def _since(value: str | None) -> datetime | None:
    """'7d', '12h', '30m' ago, or an ISO date/time."""
    if not value:
        return None
    m = re.fullmatch(r"(\d+)\s*([dhm])", value.strip())
    if m:
        unit = {"d": "days", "h": "hours", "m": "minutes"}[m.group(2)]
        return datetime.now(UTC) - timedelta(**{unit: int(m.group(1))})
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise CliError(f"bad --since {value!r}: use 7d, 12h, 30m or a date such as 2025-03-01") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@alerts_app.command("subscribe")
def subscribe(
    email: str = typer.Argument(..., help="Address to send alerts to."),
    region: list[str] = typer.Option([], "--region", "-r", help="Only campaigns in this administration "
                                     "(name or adcode; a province includes its cities and counties; 全国 = "
                                     "national campaigns). Repeatable."),
    measure: list[str] = typer.Option([], "--measure", "-m", help=f"Only campaigns with this measure "
                                      f"({', '.join(MEASURES)}). Repeatable."),
    query: str | None = typer.Option(None, "--query", "-q", help="Only campaigns whose stories match this "
                                     "Elasticsearch query_string (all words required unless OR is written), "
                                     "e.g. '工作群 AND 清理'."),
    mode: str = typer.Option("instant", "--mode", help="instant: one e-mail per new campaign; daily: one "
                             "digest a day listing them all."),
) -> None:
    """Subscribe an address (again: replace its filters).

    Example: newsmon alerts subscribe analyst@example.org --region 辽宁省 --measure work_groups --query '工作群 AND 清理'
    """
    from search.alerts.subscriptions import SubscriptionError

    store = _subscriptions()
    try:
        sub = store.build(email, region, measure, query, mode)
    except SubscriptionError as exc:
        raise CliError(str(exc)) from None
    created = store.save(sub)
    console.print(f"{'subscribed' if created else 'updated'} {sub.email} ({sub.mode}): {sub.describe()}"
                  + ("  [paused]" if sub.paused else ""))


@alerts_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="JSON Lines instead of a table.")) -> None:
    """List subscriptions.

    Example: newsmon alerts list
    """
    subs = _subscriptions().all()
    if as_json:
        for s in subs:
            print(json.dumps(s.model_dump(mode="json"), ensure_ascii=False))
        return
    table = Table(title=f"subscriptions: {len(subs)}")
    for col in ("email", "mode", "state", "filters", "since"):
        table.add_column(col, overflow="fold")
    for s in subs:
        table.add_row(s.email, s.mode, "paused" if s.paused else "active", s.describe(),
                      s.created_at.strftime("%Y-%m-%d"))
    console.print(table)


@alerts_app.command("unsubscribe")
def unsubscribe(email: str = typer.Argument(..., help="Subscribed address.")) -> None:
    """Remove a subscription (alerts not yet sent to it are cancelled).

    Example: newsmon alerts unsubscribe analyst@example.org
    """
    address = _address(email)
    if not _subscriptions().remove(address):
        raise CliError(f"{address} is not subscribed (see: newsmon alerts list)")
    console.print(f"unsubscribed {address}")


def _set_paused(email: str, paused: bool) -> None:
    address = _address(email)
    if _subscriptions().set_paused(address, paused) is None:
        raise CliError(f"{address} is not subscribed (see: newsmon alerts list)")
    console.print(f"{'paused' if paused else 'resumed'} {address}")


@alerts_app.command("pause")
def pause(email: str = typer.Argument(..., help="Subscribed address.")) -> None:
    """Stop alerts to an address for now; campaigns found meanwhile are not sent later.

    Example: newsmon alerts pause analyst@example.org
    """
    _set_paused(email, True)


@alerts_app.command("resume")
def resume(email: str = typer.Argument(..., help="Subscribed address.")) -> None:
    """Send alerts to a paused address again (from the next new campaign on).

    Example: newsmon alerts resume analyst@example.org
    """
    _set_paused(email, False)


@alerts_app.command("history")
def history(
    email: str | None = typer.Option(None, "--email", help="Only alerts to this address."),
    since: str | None = typer.Option(None, "--since", help="Only alerts created since: 7d, 12h, or a date."),
    status: str | None = typer.Option(None, "--status", help="Only this status: pending, sending, sent, "
                                      "failed, cancelled."),
    limit: int = typer.Option(100, min=1, max=10_000, help="At most this many, newest first."),
    as_json: bool = typer.Option(False, "--json", help="JSON Lines instead of a table."),
) -> None:
    """Show alert e-mails: sent, pending (with the next attempt and the last error), failed.

    Example: newsmon alerts history --email analyst@example.org --since 7d
    """
    from search.alerts.records import STATUSES, AlertRecords

    if status and status not in STATUSES:
        raise CliError(f"unknown status {status!r} (one of: {', '.join(STATUSES)})")
    address = _address(email) if email else None
    rows = AlertRecords(_es(), settings()).history(email=address, since=_since(since), status=status, limit=limit)
    if as_json:
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
        return
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    table = Table(title=f"alerts: {len(rows)} ({', '.join(f'{k} {v}' for k, v in sorted(counts.items())) or 'none'})")
    for col in ("created", "status", "to", "mode", "about", "attempts", "sent / next try", "last error", "id"):
        table.add_column(col, overflow="fold")
    for r in rows:
        about = (f"{r.get('region_name') or ''} · {r.get('title') or ''}" if r["kind"] == "campaign"
                 else f"quiet source {r.get('source_id')}")
        when = r.get("sent_at") if r["status"] == "sent" else (r.get("next_attempt_at") if r["status"] == "pending" else "")
        table.add_row(r["created_at"][:19], r["status"], r["email"] or "-", r.get("mode") or "", about[:80],
                      str(r.get("attempts", 0)), (when or "")[:19], (r.get("last_error") or "")[:100], r["id"])
    console.print(table)


@alerts_app.command("retry")
def retry(
    ids: list[str] = typer.Argument(None, help="Alert ids (from `newsmon alerts history`)."),
    failed: bool = typer.Option(False, "--failed", help="All failed alerts."),
) -> None:
    """Queue failed alerts again (the running alerter sends them), or send pending ones sooner.

    Example: newsmon alerts retry --failed
    """
    from search.alerts.records import AlertRecords

    if not ids and not failed:
        raise CliError("give alert ids or --failed")
    records = AlertRecords(_es(), settings())
    chosen = list(ids or [])
    if failed:
        chosen += [r["id"] for r in records.history(status="failed", limit=10_000)]
    n = records.requeue(chosen, datetime.now(UTC))
    console.print(f"queued {n} alert(s) again")


@alerts_app.command("campaigns")
def campaigns(
    region: str | None = typer.Option(None, "--region", "-r", help="Only this administration and those inside it."),
    since: str | None = typer.Option(None, "--since", help="Only campaigns seen since: 30d or a date."),
    limit: int = typer.Option(50, min=1, max=10_000, help="At most this many, newest first."),
    as_json: bool = typer.Option(False, "--json", help="JSON Lines instead of a table."),
) -> None:
    """List campaigns (an administration running overlapping measures), newest first.

    Example: newsmon alerts campaigns --region 辽宁省 --since 90d
    """
    from newsmon import gazetteer
    from search.alerts.indices import ensure_campaigns

    es, s = _es(), settings()
    index = ensure_campaigns(es, s)
    filters: list[dict] = []
    if region:
        try:
            filters.append({"term": {"region_codes": gazetteer.resolve_region(region).adcode}})
        except gazetteer.UnknownRegion as exc:
            raise CliError(str(exc)) from None
    when = _since(since)
    if when:
        filters.append({"range": {"last_seen": {"gte": when.isoformat()}}})
    hits = es.search(index=index, query={"bool": {"filter": filters}}, size=limit,
                     sort=[{"first_seen": "desc"}], source_excludes=["stories", "story_details"])
    docs = [h["_source"] for h in hits["hits"]["hits"]]
    if as_json:
        for d in docs:
            print(json.dumps(d, ensure_ascii=False))
        return
    table = Table(title=f"campaigns: {hits['hits']['total']['value']}")
    for col in ("first seen", "last seen", "where", "measures", "stories", "outlets", "title", "id"):
        table.add_column(col, overflow="fold")
    for d in docs:
        table.add_row((d["first_seen"] or "")[:10], (d["last_seen"] or "")[:10], d["region_name"],
                      "、".join(d["measure_labels"]), str(d["story_count"]), str(len(d["outlets"])),
                      d["title"][:60], d["id"])
    console.print(table)


@alerts_app.command("preview")
def preview(
    campaign_id: str = typer.Argument(..., help="Campaign id (from `newsmon alerts campaigns`)."),
    html_out: Path | None = typer.Option(None, "--html", help="Write the HTML part to this file."),
    email: str = typer.Option("analyst@example.org", help="Address shown in the footer."),
) -> None:
    """Print the alert e-mail of a campaign as a subscriber would get it (text part), without sending.

    Example: newsmon alerts preview 3f2a9c0d1e2b3c4d5e6f --html /tmp/alert.html
    """
    from newsmon import mail
    from search.alerts.indices import ensure_campaigns

    es, s = _es(), settings()
    got = es.options(ignore_status=404).get(index=ensure_campaigns(es, s), id=campaign_id)
    if not got.get("found"):
        raise CliError(f"no campaign {campaign_id!r} (see: newsmon alerts campaigns)")
    rendered = mail.render_campaign_alert(got["_source"], s, email, "preview")
    if html_out:
        html_out.write_text(rendered.html, encoding="utf-8")
    print(f"Subject: {rendered.subject}\n\n{rendered.text}")


@alerts_app.command("test")
def test(email: str = typer.Argument(..., help="Where to send the sample.")) -> None:
    """Send a sample alert through the configured SMTP server (NEWSMON_SMTP_*), to check the settings.

    Example: NEWSMON_SMTP_HOST=smtp.example.org NEWSMON_SMTP_SECURITY=starttls newsmon alerts test me@example.org
    """
    from newsmon import mail
    from newsmon.schemas import stable_id
    from search.alerts.sample import sample_campaign

    address = _address(email)
    s = settings()
    shown = s.masked()
    console.print(f"SMTP {shown['smtp_host']}:{shown['smtp_port']} security={shown['smtp_security']} "
                  f"user={shown['smtp_user'] or '-'} password={shown['smtp_password'] or '-'} from={shown['smtp_from']}")
    rendered = mail.render_campaign_alert(sample_campaign(), s, address, "测试邮件 / test message")
    rendered = mail.RenderedMail("[测试] " + rendered.subject, rendered.text, rendered.html)
    msg = mail.build_message(rendered, address, s, stable_id("test", address, datetime.now(UTC).isoformat()),
                             {"X-Newsmon-Test": "yes"})
    try:
        mail.send_message(s, msg, address)
    except mail.SendError as exc:
        raise CliError(f"not sent: {exc}") from None
    console.print(f"sent a sample alert to {address}: {rendered.subject}")


def mailcatcher(
    port: int = typer.Option(2525, "--port", min=1, max=65535, help="Port on 127.0.0.1 (NEWSMON_SMTP_PORT's default)."),
    directory: Path | None = typer.Option(None, "--dir", help="Also save every message here as a .eml file."),
) -> None:
    """Run a local SMTP server that prints and keeps every e-mail it receives (demo and tests only).

    Example: newsmon mailcatcher --port 2525 --dir ./mail
    """
    import threading

    from newsmon.mailcatcher import MailCatcher

    def show(m) -> None:
        console.print(f"[{datetime.now().strftime('%H:%M:%S')}] {m.mail_from} → {', '.join(m.rcpt_tos)}: {m.subject}")

    catcher = MailCatcher(port=port, directory=directory, on_message=show)
    try:
        catcher.start()
    except (OSError, RuntimeError) as exc:
        raise CliError(f"cannot listen on 127.0.0.1:{port}: {exc}") from None
    console.print(f"mail catcher listening on 127.0.0.1:{port}" + (f", saving to {directory}" if directory else "")
                  + " (Ctrl-C to stop)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        catcher.stop()
        console.print(f"stopped after {len(catcher.messages)} message(s)")


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
    app.command("mailcatcher")(mailcatcher)
