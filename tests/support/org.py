"""The test company: the demo organisation's shape (plus qianba, a second salesperson in
华东销售部 itself), built through the real services. As in the demo, the heads, the security
officer and the administrator use TOTP with known secrets and known recovery codes (C4.2.4)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from baomi.audit.context import CLI_CONTEXT
from baomi.auth import mfa
from baomi.crypto.keys import KeyProvider
from baomi.demo.company import demo_totp_secret
from baomi.security.actor import SEEDER, Actor
from baomi.security.roles import Role
from baomi.uow import unit_of_work
from baomi.users import actors
from baomi.users import service as users
from baomi.users.schemas import EmploymentType

PASSWORD = "baomi-test-2026-pw"

# username, display name, department, employment, roles, heads
PEOPLE = (
    ("zhangsan", "张三", "华东销售部", EmploymentType.FULL_TIME, {Role.SALESPERSON}),
    ("lisi", "李四", "上海组", EmploymentType.FULL_TIME, {Role.SALESPERSON}),
    ("qianba", "钱八", "华东销售部", EmploymentType.SALES_SUPPORT, {Role.SALESPERSON}),
    ("wangwu", "王五", "华东销售部", EmploymentType.FULL_TIME, {Role.DEPARTMENT_HEAD}),
    ("zhaoliu", "赵六", "华南销售部", EmploymentType.PART_TIME, {Role.SALESPERSON}),
    ("sunqi", "孙七", "华南销售部", EmploymentType.FULL_TIME, {Role.DEPARTMENT_HEAD}),
    ("baomiyuan", "保密员", None, EmploymentType.FULL_TIME, {Role.SECURITY_OFFICER}),
    ("shenji", "审计员", None, EmploymentType.FULL_TIME, {Role.AUDITOR}),
    ("admin", "系统管理员", None, EmploymentType.FULL_TIME, {Role.ADMINISTRATOR}),
)
HEADS = {"华东销售部": "wangwu", "华南销售部": "sunqi"}
TOTP_SECRETS = {
    username: demo_totp_secret(f"test-{username}")
    for username, _, _, _, roles in PEOPLE
    if mfa.mfa_expected(roles)
}


def recovery_codes(username: str) -> list[str]:
    """The ten known recovery codes of a test person with MFA."""
    return [f"{username}-recovery-{n:02d}" for n in range(10)]


@dataclass(frozen=True)
class Org:
    departments: dict[str, str]
    user_ids: dict[str, str]


def build_org(engine: Engine, provider: KeyProvider) -> Org:
    """Create departments (华东 with 上海组 below it, 华南) and the people, MFA enrolled."""
    with unit_of_work(engine) as conn:
        east = users.create_department(conn, actor=SEEDER, ctx=CLI_CONTEXT, name="华东销售部")
        shanghai = users.create_department(
            conn, actor=SEEDER, ctx=CLI_CONTEXT, name="上海组", parent_id=east
        )
        south = users.create_department(conn, actor=SEEDER, ctx=CLI_CONTEXT, name="华南销售部")
        depts = {"华东销售部": east, "上海组": shanghai, "华南销售部": south}
        ids = {}
        for username, display, dept, employment, roles in PEOPLE:
            ids[username] = users.create_user(
                conn,
                actor=SEEDER,
                ctx=CLI_CONTEXT,
                username=username,
                display_name=display,
                password=PASSWORD,
                employment_type=employment,
                department_id=depts[dept] if dept else None,
                roles=roles,
            )
        for dept, head in HEADS.items():
            users.set_department_head(
                conn, actor=SEEDER, ctx=CLI_CONTEXT, department_id=depts[dept], user_id=ids[head]
            )
        for username, secret in TOTP_SECRETS.items():
            mfa.activate(
                conn,
                provider=provider,
                user_id=ids[username],
                secret=secret,
                recovery_codes=recovery_codes(username),
            )
    return Org(departments=depts, user_ids=ids)


def actor(engine: Engine, org: Org, username: str) -> Actor:
    with engine.connect() as conn:
        loaded = actors.load_actor(conn, org.user_ids[username])
    assert loaded is not None
    return loaded
