"""People: users, their sessions, sign-up and log-in pages, and the users CLI."""
