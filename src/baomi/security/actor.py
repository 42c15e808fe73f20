"""The authenticated person behind a unit of work, as the access policy needs to see them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from baomi.security.roles import Permission, Role, permissions_of


@dataclass(frozen=True, slots=True)
class Actor:
    """A user with their roles and the department subtree they head, loaded once per request."""

    user_id: str
    username: str
    display_name: str
    roles: frozenset[Role]
    department_id: str | None
    employment_type: str
    # C1.3 / C4.2.1: departments (with all descendants) this person heads.
    headed_departments: frozenset[str] = field(default_factory=frozenset)
    # C4.2.4: a second factor (TOTP) is enrolled and confirmed.
    mfa_enrolled: bool = False
    # The session behind this request (None outside a request, e.g. the CLI).
    session_id: str | None = None
    # When this session last passed a second factor (login with MFA or a step-up), for the
    # step-up rule on revealing 机密 data (C4.3.2).
    mfa_verified_at: datetime | None = None

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_of(self.roles)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions
