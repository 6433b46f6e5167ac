from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from plugin.clock import utcnow
from plugin.extensions import Model


class UpstreamIdentity(Model):
    """An account at an upstream provider (Google, an OpenID Connect issuer…) that signs a
    person in to their account here; the provider's ``sub`` (GitHub's user id) names it."""

    __tablename__ = "upstream_identities"
    __table_args__ = (sa.UniqueConstraint("provider", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The provider's name in UPSTREAM_PROVIDERS.
    provider: Mapped[str] = mapped_column(sa.String(32))
    subject: Mapped[str] = mapped_column(sa.String(255))
    # The verified address the provider gave at the last sign-in, shown on the account page.
    email: Mapped[str] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
