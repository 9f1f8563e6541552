"""Staff accounts, roles and what each role may do."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.domain.base import Base, utcnow
from backoffice.domain.enums import Role, enum_column
# Roles and permissions live beside the pure rules; they are named here as well, where the
# accounts are.
from backoffice.domain.roles import (  # noqa: F401
    PERMISSION_WORDS,
    ROLE_LABELS,
    ROLE_PERMISSIONS,
    Actor,
    Permission,
)


class StaffUser(Base):
    """A person who signs in at a desk."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    def actor(self, desk: str = "") -> Actor:
        return Actor(staff_id=self.id, login=self.login, role=self.role, desk=desk)
