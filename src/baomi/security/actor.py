"""The authenticated person behind a unit of work, as the access policy needs to see them."""

from __future__ import annotations

from dataclasses import dataclass, field

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

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_of(self.roles)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions
