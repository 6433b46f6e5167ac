"""Every model in one import, so that Alembic and the tests see the whole schema."""

from plugin.accounts.models import (
    EmailToken,
    Passkey,
    PasskeyChallenge,
    PasswordReset,
    User,
    UserSession,
)
from plugin.accounts.upstream.models import UpstreamIdentity
from plugin.audit.models import AuditEvent
from plugin.chatgpt.models import Setting
from plugin.confirmations.models import PendingAction
from plugin.connections.models import ConnectionTrace, TraceStep
from plugin.mail.models import MailMessage
from plugin.oauth.models import AuthorizationCode, Consent, OAuthClient, OAuthToken
from plugin.todos.models import Todo

__all__ = [
    "AuditEvent",
    "AuthorizationCode",
    "ConnectionTrace",
    "Consent",
    "EmailToken",
    "MailMessage",
    "OAuthClient",
    "OAuthToken",
    "Passkey",
    "PasskeyChallenge",
    "PasswordReset",
    "PendingAction",
    "Setting",
    "Todo",
    "UpstreamIdentity",
    "TraceStep",
    "User",
    "UserSession",
]
