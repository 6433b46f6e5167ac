"""Sending e-mail (Flask-Mailman) and the outbox that records every message.

A core service like the audit log: features below or above accounts may send through it;
it imports no feature.
"""
