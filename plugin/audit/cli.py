"""`flask audit tail`: the newest audit events, in the terminal or as JSON."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from plugin.audit.models import AuditEvent
from plugin.audit.services import event_as_dict, query_events
from plugin.terminal import print_tail, tail_options

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
@tail_options("events", default=20, most=10_000)
@click.option("--event", help="Only this event (or, ending in '.' or '*', events starting so).")
def tail_command(count: int, event: str | None, as_json: bool) -> None:
    """Show the newest events, oldest first, like tail."""
    print_tail(
        query_events(event=event, limit=count),
        as_json=as_json,
        as_dict=event_as_dict,
        lines=lambda entry: [format_line(entry)],
        empty="No audit events" + (f" named {event!r}." if event else " yet."),
    )
