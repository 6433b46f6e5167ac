"""Issued tokens: their values, issuing a stored pair, and finding a presented one."""
