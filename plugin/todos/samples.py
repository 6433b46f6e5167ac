"""Sample data for a directory reviewer's account: a small list to search, tick and delete."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from plugin.accounts.models import User
from plugin.accounts.reviewers import reviewer_created
from plugin.clock import utcnow
from plugin.todos.services import create_todo, update_todo

# (title, notes, due in days or None, done)
SAMPLE_TODOS = (
    ("Buy oat milk and coffee beans", "The shop on the corner closes at 8.", 1, False),
    ("Book the dentist", "Check-up; ask about the night guard.", 14, False),
    ("Renew passport", "Photos are in the desk drawer.", 30, False),
    ("Send the quarterly report to Sam", "", -2, True),
    ("Water the plants", "", None, False),
)


@reviewer_created.connect
def add_sample_todos(user: User, **_: Any) -> None:
    """Give a reviewer's new account a few open items, one done, some with due dates."""
    today = utcnow().date()
    # Oldest first, so that the list (newest first) opens with the first sample.
    for title, notes, due_in, done in reversed(SAMPLE_TODOS):
        due = today + timedelta(days=due_in) if due_in is not None else None
        todo = create_todo(user, title, notes, due)
        if done:
            update_todo(todo, {"done": True})
