"""Admin forms; Flask-WTF adds and checks the CSRF token on every POSTed one."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from plugin.accounts.forms import reauth_password
from plugin.oauth.scopes import ordered, scopes
from plugin.validators import multi_line, single_line


class CheckboxesField(SelectMultipleField):
    """Several choices shown as a list of labelled checkboxes."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ClientForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=100), single_line])
    redirect_uris = TextAreaField("Redirect URIs", validators=[DataRequired(), multi_line])
    scopes = CheckboxesField("Scopes", validate_choice=True)
    # Only on creation: a public client has no secret, so it cannot become confidential later.
    public = BooleanField("Public client (no secret; PKCE required)")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Scopes are registered by features at start-up, so the choices are read per request.
        self.scopes.choices = [(name, f"{name} — {text}") for name, text in scopes().items()]

    def redirect_uri_list(self) -> list[str]:
        return [
            line.strip() for line in (self.redirect_uris.data or "").splitlines() if line.strip()
        ]

    def scope_string(self) -> str:
        return ordered(self.scopes.data or [])

    def validate_scopes(self, field: CheckboxesField) -> None:
        if not field.data:
            raise ValidationError("Choose at least one scope.")


class ReauthForm(FlaskForm):
    """Asks the admin's own password again before a sensitive action."""

    password = reauth_password("Your current password")


class ConfirmForm(FlaskForm):
    """A form that is only a button."""


class VerificationTokenForm(FlaskForm):
    token = StringField(
        "OpenAI verification token", validators=[DataRequired(), Length(max=255), single_line]
    )

    def validate_token(self, field: StringField) -> None:
        field.data = field.data.strip()
        if any(ch.isspace() for ch in field.data):
            raise ValidationError("The token has no spaces; paste it exactly as OpenAI shows it.")


class AppsChallengeTokenForm(VerificationTokenForm):
    """The app directory's domain-verification token; posted with the prefix ``challenge``
    so that its field and the manifest token's never share an id on the settings page."""

    token = StringField(
        "Domain verification token", validators=[DataRequired(), Length(max=255), single_line]
    )


class AdminPasskeysForm(FlaskForm):
    require = BooleanField("Require passkeys for admins")


class AuditFilterForm(FlaskForm):
    """The audit page's filters, read from the query string (a GET form needs no CSRF)."""

    class Meta:
        csrf = False

    event = StringField("Event", validators=[Optional(), Length(max=64), single_line])
    actor = StringField("Actor email", validators=[Optional(), Length(max=254), single_line])
    subject = StringField("Subject", validators=[Optional(), Length(max=255), single_line])
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")

    def since(self) -> datetime | None:
        return datetime.combine(self.date_from.data, time.min) if self.date_from.data else None

    def until(self) -> datetime | None:
        # "To" includes the whole day it names.
        if not self.date_to.data or self.date_to.data == date.max:
            return None
        return datetime.combine(self.date_to.data + timedelta(days=1), time.min)


OUTCOME_CHOICES = [
    SelectChoice("", "Any outcome"),
    SelectChoice("failed", "Failed"),
    SelectChoice("pending", "In progress"),
    SelectChoice("connected", "Connected"),
]


class ConnectionFilterForm(FlaskForm):
    """Filters from the query string (a GET form needs no CSRF)."""

    class Meta:
        csrf = False

    client = StringField("Client", validators=[Optional(), Length(max=255), single_line])
    person = StringField("Person", validators=[Optional(), Length(max=254), single_line])
    outcome = SelectField("Outcome", choices=OUTCOME_CHOICES, validators=[Optional()])
