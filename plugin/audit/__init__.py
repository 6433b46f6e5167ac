"""The append-only record of security events."""
