"""Roles, permissions and separation of duties (三员分立)."""

from __future__ import annotations

from enum import StrEnum
from functools import cache


class Role(StrEnum):
    SALESPERSON = "salesperson"
    DEPARTMENT_HEAD = "department_head"
    SECURITY_OFFICER = "security_officer"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"


class Permission(StrEnum):
    CUSTOMER_WORK = "customer:work"
    CUSTOMER_CHECK = "customer:check"
    GRANT_MANAGE = "grant:manage"
    # Seeing the list of grants (ids, people, windows: no customer data) without giving any.
    GRANT_READ = "grant:read"
    USER_MANAGE = "user:manage"
    USER_UNLOCK = "user:unlock"
    # 三员分立: the security officer approves what would let an account reach customer data.
    ACCOUNT_APPROVE = "account:approve"
    AUDIT_READ = "audit:read"
    KEY_MANAGE = "key:manage"


# C4.2.1: the administrator and the auditor hold no customer permission by their role.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.SALESPERSON: frozenset({Permission.CUSTOMER_WORK, Permission.CUSTOMER_CHECK}),
    Role.DEPARTMENT_HEAD: frozenset({Permission.CUSTOMER_WORK, Permission.CUSTOMER_CHECK}),
    Role.SECURITY_OFFICER: frozenset(
        {
            Permission.GRANT_MANAGE,
            Permission.GRANT_READ,
            Permission.KEY_MANAGE,
            Permission.CUSTOMER_CHECK,
            Permission.USER_UNLOCK,
            Permission.ACCOUNT_APPROVE,
        }
    ),
    Role.AUDITOR: frozenset({Permission.AUDIT_READ}),
    Role.ADMINISTRATOR: frozenset({Permission.USER_MANAGE}),
}


class SystemKind(StrEnum):
    """Who acts when no person does (security/actor.py SystemActor): named, never anonymous."""

    # The OS account running `baomi` on the server without --as (C1.3: audited as os:<account>).
    CONSOLE = "console"
    # Seeding an organisation before anyone can log in: the demo company, tests, benchmarks.
    SEED = "seed"


# What the system may do with no person behind it, as explicit as the roles' table. C4.2.1: no
# customer permission, and nothing that gives access (grants and account changes take a person).
# The console sets up the first administrator, disables and unlocks accounts, lists grants.
SYSTEM_PERMISSIONS: dict[SystemKind, frozenset[Permission]] = {
    SystemKind.CONSOLE: frozenset(
        {Permission.USER_MANAGE, Permission.USER_UNLOCK, Permission.GRANT_READ}
    ),
    SystemKind.SEED: frozenset({Permission.USER_MANAGE}),
}

# Roles whose holders work with customer data (C4.2.1).
CUSTOMER_ROLES = frozenset({Role.SALESPERSON, Role.DEPARTMENT_HEAD})

# MLPS 2.0 三员分立: system, security and audit administration never meet in one person.
SEPARATED_ROLES = frozenset({Role.ADMINISTRATOR, Role.SECURITY_OFFICER, Role.AUDITOR})


def separation_violation(roles: set[Role]) -> str | None:
    """Return why a role set breaks 三员分立, or None when it is allowed."""
    held = sorted(r.value for r in roles & SEPARATED_ROLES)
    if len(held) > 1:
        return f"roles {', '.join(held)} must be held by different people (三员分立)"
    if held and roles & CUSTOMER_ROLES:
        return f"role {held[0]} cannot also work with customer data (三员分立)"
    return None


@cache  # a handful of role sets; the policy asks on every customer read
def permissions_of(roles: frozenset[Role]) -> frozenset[Permission]:
    """Return the union of the permissions the roles carry."""
    out: set[Permission] = set()
    for role in roles:
        out |= ROLE_PERMISSIONS[role]
    return frozenset(out)
