"""The operator's pages: clients, users, settings and the audit log."""
