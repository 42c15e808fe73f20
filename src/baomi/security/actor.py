"""Who acts in a unit of work: an authenticated person, or the system acting with no person.

Services that only a person may call (customer data, grants, account changes) take `Actor`, so
the type says that the system never reaches them. The few the system may call too (setting up
the first administrator, seeding, disabling and unlocking accounts, listing grants) take
`AnyActor` and check the permission like for anyone: there is no actor with all rights.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from baomi.security.roles import SYSTEM_PERMISSIONS, Permission, Role, SystemKind, permissions_of


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


@dataclass(frozen=True, slots=True)
class SystemActor:
    """The system acting with no person behind it: the OS account at the server's console, or
    the seeding of an organisation. It holds the permissions of its kind only
    (roles.SYSTEM_PERMISSIONS) and is audited under its own name (C1.3: nothing is anonymous).
    """

    kind: SystemKind
    # The name audit events carry: "os:<account>" at the console, "system:seed" when seeding.
    # Like a scheduled job's ("system:<job>"), it is never a person's username.
    username: str
    # Not a person, so no row in users: audit events and the columns that name a person
    # (created_by, revoked_by, requested_by) get NULL with this name beside them.
    user_id: None = None

    @property
    def display_name(self) -> str:
        return self.username

    @property
    def permissions(self) -> frozenset[Permission]:
        return SYSTEM_PERMISSIONS[self.kind]

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


AnyActor = Actor | SystemActor

# Seeding an organisation through the real services (demo/company.py, the tests' company, the
# benchmarks' vault): departments, people with their roles and heads, before anyone can log in.
SEEDER = SystemActor(kind=SystemKind.SEED, username="system:seed")


def console_operator(account: str) -> SystemActor:
    """The OS account `account` running a CLI command on the server without --as."""
    return SystemActor(kind=SystemKind.CONSOLE, username=f"os:{account}"[:64])
