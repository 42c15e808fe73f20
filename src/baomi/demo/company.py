"""The demo company's organisation: three departments and eight people, one per duty.

Everyone shares one published password, which is why `baomi demo` only listens on loopback and
the seed refuses to run outside demo mode. The heads, the security officer and the administrator
use TOTP (C4.2.4) with published, deterministic secrets, written to the credentials file.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Connection

from baomi.audit.context import CLI_CONTEXT
from baomi.auth import mfa
from baomi.crypto.keys import KeyProvider
from baomi.security.actor import SEEDER
from baomi.security.roles import Role
from baomi.users import service as users
from baomi.users.schemas import EmploymentType

DEMO_PASSWORD = "baomi-demo-2026"  # noqa: S105 - published on purpose; demo mode only
EAST, SHANGHAI, SOUTH = "华东销售部", "上海组", "华南销售部"


@dataclass(frozen=True, slots=True)
class Person:
    username: str
    display_name: str
    department: str | None
    employment: EmploymentType
    role: Role
    # What the person is for in the demo, printed beside their login.
    duty: str


PEOPLE = (
    Person("zhangsan", "张三", EAST, EmploymentType.FULL_TIME, Role.SALESPERSON, "销售 华东"),
    Person("lisi", "李四", SHANGHAI, EmploymentType.FULL_TIME, Role.SALESPERSON, "销售 上海组"),
    Person(
        "wangwu", "王五", EAST, EmploymentType.FULL_TIME, Role.DEPARTMENT_HEAD, "华东销售部负责人"
    ),
    Person("zhaoliu", "赵六", SOUTH, EmploymentType.PART_TIME, Role.SALESPERSON, "兼职销售 华南"),
    Person(
        "sunqi", "孙七", SOUTH, EmploymentType.FULL_TIME, Role.DEPARTMENT_HEAD, "华南销售部负责人"
    ),
    Person("baomiyuan", "保密员", None, EmploymentType.FULL_TIME, Role.SECURITY_OFFICER, "保密员"),
    Person("shenji", "审计员", None, EmploymentType.FULL_TIME, Role.AUDITOR, "审计员"),
    Person("admin", "系统管理员", None, EmploymentType.FULL_TIME, Role.ADMINISTRATOR, "系统管理员"),
)
HEADS = {EAST: "wangwu", SOUTH: "sunqi"}


def demo_totp_secret(username: str) -> str:
    """The published TOTP secret of a demo person (base32, 160 bits)."""
    digest = hashlib.sha256(f"baomi-demo-totp:{username}".encode()).digest()[:20]
    return base64.b32encode(digest).decode()


def totp_secret(person: Person) -> str | None:
    """The person's TOTP secret when their role must use MFA, else None."""
    return demo_totp_secret(person.username) if mfa.mfa_expected({person.role}) else None


def build_organisation(conn: Connection, provider: KeyProvider) -> dict[str, str]:
    """Create the departments and people through the users service; return ids by username."""
    east = users.create_department(conn, actor=SEEDER, ctx=CLI_CONTEXT, name=EAST)
    departments = {
        EAST: east,
        SHANGHAI: users.create_department(
            conn, actor=SEEDER, ctx=CLI_CONTEXT, name=SHANGHAI, parent_id=east
        ),
        SOUTH: users.create_department(conn, actor=SEEDER, ctx=CLI_CONTEXT, name=SOUTH),
    }
    ids = {
        p.username: users.create_user(
            conn,
            actor=SEEDER,
            ctx=CLI_CONTEXT,
            username=p.username,
            display_name=p.display_name,
            password=DEMO_PASSWORD,
            employment_type=p.employment,
            department_id=departments[p.department] if p.department else None,
            roles={p.role},
        )
        for p in PEOPLE
    }
    for department, head in HEADS.items():
        users.set_department_head(
            conn,
            actor=SEEDER,
            ctx=CLI_CONTEXT,
            department_id=departments[department],
            user_id=ids[head],
        )
    for person in PEOPLE:
        if (secret := totp_secret(person)) is not None:
            mfa.activate(
                conn,
                provider=provider,
                user_id=ids[person.username],
                secret=secret,
                recovery_codes=(),
            )
    return ids


def logins() -> list[tuple[str, str, str, str]]:
    """(username, password, TOTP secret or "-", duty) for every demo person."""
    return [(p.username, DEMO_PASSWORD, totp_secret(p) or "-", p.duty) for p in PEOPLE]


def write_credentials(path: Path) -> None:
    """Write `username password secret-or-dash` per person into a 0600 file, replacing any."""
    text = "".join(
        f"{username} {password} {secret}\n" for username, password, secret, _ in logins()
    )
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
