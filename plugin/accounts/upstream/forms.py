from __future__ import annotations

from flask_wtf import FlaskForm

from plugin.accounts.forms import reauth_password


class LinkProviderForm(FlaskForm):
    """Linking a provider from the account page; one per provider, told apart by a prefix
    (``link-<name>``)."""

    password = reauth_password("Your password")
