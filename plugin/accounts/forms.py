"""Forms for the account pages; Flask-WTF adds and checks the CSRF token on each."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from plugin.accounts.passwords import MAX_LENGTH, password_problem
from plugin.accounts.services import email_problem, normalize_email
from plugin.accounts.sessions import get_current_user
from plugin.validators import single_line

# Passwords are never stripped or otherwise changed: what the person typed is what is hashed.
PASSWORD_HINT = "At least 8 characters; a long phrase of several words is best."  # noqa: S105


def _if_they_have_one(form: FlaskForm, field: PasswordField) -> None:
    """Require the password asked again only of a person who has one: an account without a
    password proves itself by a recent passkey sign-in instead (``plugin.accounts.reauth``)."""
    user = get_current_user()
    if user is None or user.has_password:
        InputRequired()(form, field)


def reauth_password(label: str) -> PasswordField:
    """The field of a form that asks the signed-in person's password again."""
    return PasswordField(label, validators=[_if_they_have_one, Length(max=MAX_LENGTH)])


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254), single_line])
    password = PasswordField("Password", validators=[InputRequired(), Length(max=MAX_LENGTH)])
    next = HiddenField()


class SignupEmailForm(FlaskForm):
    """The address of a new account; alone, it is what signing up with a passkey asks for."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=254), single_line])

    def validate_email(self, field: EmailField) -> None:
        problem = email_problem(normalize_email(field.data))
        if problem:
            raise ValidationError(problem)


class SignupForm(SignupEmailForm):
    password = PasswordField("Password", validators=[InputRequired()])
    confirm = PasswordField(
        "Repeat the password",
        validators=[InputRequired(), EqualTo("password", message="The two passwords differ.")],
    )
    next = HiddenField()

    def validate_password(self, field: PasswordField) -> None:
        problem = password_problem(field.data, normalize_email(self.email.data))
        if problem:
            raise ValidationError(problem)


class ChangePasswordForm(FlaskForm):
    """Change the password, or set the first one of an account that has none."""

    current_password = reauth_password("Current password")
    new_password = PasswordField("New password", validators=[InputRequired()])
    confirm = PasswordField(
        "Repeat the new password",
        validators=[InputRequired(), EqualTo("new_password", message="The two passwords differ.")],
    )

    def __init__(self, email: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._email = email

    def validate_new_password(self, field: PasswordField) -> None:
        problem = password_problem(field.data, self._email)
        if problem:
            raise ValidationError(problem)


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[InputRequired()])
    confirm = PasswordField(
        "Repeat the new password",
        validators=[InputRequired(), EqualTo("password", message="The two passwords differ.")],
    )


class ConfirmForm(FlaskForm):
    """A form that is only a button: log out, sign out other sessions."""


class ForgotPasswordForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254), single_line])
    next = HiddenField()

    def validate_email(self, field: EmailField) -> None:
        problem = email_problem(normalize_email(field.data))
        if problem:
            raise ValidationError(problem)


class NextForm(FlaskForm):
    """A button that keeps the pending ``next`` target: send the verification e-mail again."""

    next = HiddenField()


class ChangeEmailForm(FlaskForm):
    new_email = EmailField("New email", validators=[DataRequired(), Length(max=254), single_line])
    email_password = reauth_password("Your password")

    def validate_new_email(self, field: EmailField) -> None:
        problem = email_problem(normalize_email(field.data))
        if problem:
            raise ValidationError(problem)


class DeleteAccountForm(FlaskForm):
    delete_password = reauth_password("Your password")
    understood = BooleanField(
        "I understand that my account, my connected apps and my data are deleted for good",
        validators=[DataRequired(message="Tick this box to confirm.")],
    )


class AddPasskeyForm(FlaskForm):
    """The name a new passkey gets; the browser's prompt (static/passkeys.js) does the rest."""

    name = StringField(
        "Name for this passkey", validators=[Optional(), Length(max=100), single_line]
    )
    # Asked again as removing a passkey asks (plugin/accounts/reauth.py); sent by the script.
    add_password = PasswordField("Your password, to add a passkey")


class RenamePasskeyForm(FlaskForm):
    """One per passkey on the account page, told apart by a prefix (``passkey-<id>``)."""

    name = StringField("New name", validators=[DataRequired(), Length(max=100), single_line])


class RemovePasskeyForm(FlaskForm):
    password = reauth_password("Your password")
