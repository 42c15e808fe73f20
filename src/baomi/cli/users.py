"""`baomi user` and `baomi department`: the organisation, run by the local operator.

The operator at the server's console acts as the system administrator (actor=None) and is named
in the audit log by their OS account (C1.3). Users carry an employment type and a department
(C1.2); the roles keep 三员分立, which the users service enforces.
"""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from baomi import runtime
from baomi.audit.context import CLI_CONTEXT
from baomi.auth import lockout
from baomi.cli.output import console, fail, user_errors
from baomi.security.roles import Role
from baomi.uow import unit_of_work
from baomi.users import service
from baomi.users.passwords import MIN_LENGTH
from baomi.users.schemas import EmploymentType, UserIn

OPTIONS = {
    "display_name": "--name",
    "employment_type": "--employment",
    "roles": "--role",
    "department_id": "--department",
    "email": "--email",
}
user_app = typer.Typer(help="People: add, list, disable, unlock.", no_args_is_help=True)
department_app = typer.Typer(help="Departments: add.", no_args_is_help=True)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first: str = typer.prompt(f"Password (at least {MIN_LENGTH} characters)", hide_input=True)
    second: str = typer.prompt("Repeat the password", hide_input=True)
    if first != second:
        fail("the two passwords differ; nothing was created")
    return first


@user_app.command("add")
def add_user(
    username: str = typer.Argument(..., help="Login name: lower-case letters, digits, _ . -"),
    name: str = typer.Option(..., "--name", help="Display name, e.g. 张三."),
    department: str | None = typer.Option(None, "--department", help="Department name."),
    role: list[Role] = typer.Option(..., "--role", help="Repeat for several roles."),
    employment: EmploymentType = typer.Option(
        EmploymentType.FULL_TIME, "--employment", help="C1.2: full-time, part-time, support."
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
    email: str | None = typer.Option(
        None, "--email", help="Where notifications are mailed (optional)."
    ),
) -> None:
    """Add a person with roles, an employment type and a department."""
    password = _read_password(password_stdin)
    with user_errors(OPTIONS):
        user_in = UserIn(
            username=username,
            display_name=name,
            password=password,
            employment_type=employment,
            roles=role,
            email=email,
        )
        with unit_of_work(runtime.get_engine()) as conn:
            department_id = service.department_id_by_name(conn, department) if department else None
            service.create_user(
                conn,
                actor=None,
                ctx=CLI_CONTEXT,
                username=user_in.username,
                display_name=user_in.display_name,
                password=user_in.password,
                employment_type=user_in.employment_type,
                department_id=department_id,
                roles=user_in.roles,
                email=user_in.email,
            )
    roles = ", ".join(sorted(r.value for r in user_in.roles))
    console.print(f"Added {user_in.username} ({user_in.display_name}) with roles {roles}.")


@user_app.command("list")
def list_users() -> None:
    """List everyone with department, employment type, roles and whether they are active."""
    with user_errors(), unit_of_work(runtime.get_engine()) as conn:
        people = service.list_users(conn)
    table = Table("username", "name", "department", "employment", "roles", "active")
    for person in people:
        table.add_row(
            person.username,
            person.display_name,
            person.department_name or "",
            person.employment_type.value,
            ", ".join(r.value for r in person.roles),
            "yes" if person.is_active else "[red]disabled[/red]",
        )
    console.print(table)


@user_app.command("disable")
def disable_user(username: str = typer.Argument(...)) -> None:
    """Disable a person: no more logins, tokens revoked, the record kept for audit (C4.5.3)."""
    with user_errors(), unit_of_work(runtime.get_engine()) as conn:
        user_id = service.user_id_by_username(conn, username)
        if not any(u.id == user_id and u.is_active for u in service.list_users(conn)):
            fail(f"{username} is already disabled")
        service.disable_user(conn, actor=None, ctx=CLI_CONTEXT, user_id=user_id)
    console.print(f"Disabled {username}; their sessions are revoked.")


@user_app.command("unlock")
def unlock_user(username: str = typer.Argument(...)) -> None:
    """Unlock a person locked out by failed logins, forgetting the failures (C4.2.4)."""
    with user_errors(), unit_of_work(runtime.get_engine()) as conn:
        user_id = service.user_id_by_username(conn, username)
        was_locked = lockout.unlock(conn, actor=None, ctx=CLI_CONTEXT, user_id=user_id)
    console.print(f"Unlocked {username}." if was_locked else f"{username} was not locked.")


@department_app.command("add")
def add_department(
    name: str = typer.Argument(..., help="Department name, e.g. 华东销售部."),
    parent: str | None = typer.Option(None, "--parent", help="Parent department name."),
    head: str | None = typer.Option(
        None, "--head", help="Username of the supervising head (C3.2; needs department_head)."
    ),
) -> None:
    """Add a department, optionally under a parent and with its head."""
    with user_errors(), unit_of_work(runtime.get_engine()) as conn:
        parent_id = service.department_id_by_name(conn, parent) if parent else None
        department_id = service.create_department(
            conn, actor=None, ctx=CLI_CONTEXT, name=name, parent_id=parent_id
        )
        if head:
            service.set_department_head(
                conn,
                actor=None,
                ctx=CLI_CONTEXT,
                department_id=department_id,
                user_id=service.user_id_by_username(conn, head),
            )
    where = f" under {parent}" if parent else ""
    console.print(f"Added department {name}{where}" + (f", headed by {head}." if head else "."))
