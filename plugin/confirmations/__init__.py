"""Consequential actions that wait for the signed-in owner to confirm them on a page."""
