"""`flask audit tail`: the newest audit events, in the terminal or as JSON."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from plugin.audit.models import AuditEvent
from plugin.audit.services import event_as_dict, query_events
from plugin.terminal import echo

audit = AppGroup("audit", help="Read the audit log.")


def format_line(entry: AuditEvent) -> str:
    """One event on one line: time, event, actor, subject, IP, then the details as JSON."""
    parts = [
        entry.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        entry.event,
        entry.actor_email or "-",
        entry.subject or "-",
        entry.ip or "-",
    ]
    if entry.conversation_id:
        parts.append(f"conversation={entry.conversation_id}")
    if entry.details:
        parts.append(json.dumps(entry.details, sort_keys=True, default=str))
    return "  ".join(parts)


@audit.command("tail")
@click.option(
    "-n",
    "--lines",
    "count",
    type=click.IntRange(1, 10_000),
    default=20,
    show_default=True,
    help="How many of the newest events to show.",
)
@click.option("--event", help="Only this event (or, ending in '.' or '*', events starting so).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
def tail_command(count: int, event: str | None, as_json: bool) -> None:
    """Show the newest events, oldest first, like tail."""
    entries = list(reversed(query_events(event=event, limit=count)))
    if as_json:
        click.echo(json.dumps([event_as_dict(entry) for entry in entries], indent=2, default=str))
        return
    if not entries:
        click.echo("No audit events" + (f" named {event!r}." if event else " yet."))
        return
    for entry in entries:
        echo(format_line(entry))
