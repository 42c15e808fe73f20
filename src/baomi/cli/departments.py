"""`baomi department`: the department tree (C1.3, C3.2), managed by the administrator (`--as`).

Adding and renaming a department apply at once; a head named, or a department moved under
another parent (the heads above it then supervise its people), waits for a security officer's
approval (`baomi user approve`). Every step is audited as the person who acted.
"""

from __future__ import annotations

import typer
from rich.table import Table

from baomi import runtime
from baomi.audit.context import CLI_CONTEXT
from baomi.cli.identity import AS_USER, SECRETS_STDIN, acting_person
from baomi.cli.output import console, fail, user_errors
from baomi.cli.users import show_change
from baomi.uow import unit_of_work
from baomi.users import changes, department_moves, departments, service

department_app = typer.Typer(
    help="Departments: add, rename, move, head, list.", no_args_is_help=True
)


@department_app.command("add")
def add_department(
    name: str = typer.Argument(..., help="Department name, e.g. 华东销售部."),
    parent: str | None = typer.Option(None, "--parent", help="Parent department name."),
    head: str | None = typer.Option(
        None, "--head", help="Username of the supervising head (C3.2; needs department_head)."
    ),
    as_user: str = AS_USER,
    password_stdin: bool = SECRETS_STDIN,
) -> None:
    """Add a department, optionally under a parent; its head waits for the officer."""
    with user_errors(), unit_of_work(runtime.get_engine()) as conn:
        admin = acting_person(conn, as_user, password_stdin)
        parent_id = service.department_id_by_name(conn, parent) if parent else None
        department_id = service.create_department(
            conn, actor=admin, ctx=CLI_CONTEXT, name=name, parent_id=parent_id
        )
        change = None
        if head:
            change = changes.request_head(
                conn,
                actor=admin,
                ctx=CLI_CONTEXT,
                department_id=department_id,
                user_id=service.user_id_by_username(conn, head),
                mail=runtime.mail_on(),
            )
    where = f" under {parent}" if parent else ""
    console.print(f"Added department {name}{where}.")
    if head:
        console.print(f"Head {head}:")
        show_change(change)


@department_app.command("rename")
def rename_department(
    name: str = typer.Argument(..., help="The department's name now."),
    new_name: str = typer.Argument(..., help="Its new name."),
    as_user: str = AS_USER,
    password_stdin: bool = SECRETS_STDIN,
) -> None:
    """Rename a department, at once (names stay unique and not blank)."""
    with user_errors(), unit_of_work(runtime.get_engine()) as conn:
        admin = acting_person(conn, as_user, password_stdin)
        renamed = departments.rename_department(
            conn,
            actor=admin,
            ctx=CLI_CONTEXT,
            department_id=service.department_id_by_name(conn, name),
            name=new_name,
        )
    console.print(f"Renamed department {name} to {renamed.name}.")


@department_app.command("move")
def move_department(
    name: str = typer.Argument(..., help="The department to move."),
    under: str | None = typer.Option(None, "--under", help="Its new parent department."),
    top: bool = typer.Option(False, "--top", help="To the top level (no parent)."),
    as_user: str = AS_USER,
    password_stdin: bool = SECRETS_STDIN,
) -> None:
    """Move a department under another or to the top (C1.3), once the officer approves."""
    if (under is None) == (not top):
        fail("give either --under PARENT or --top", code=2)
    with user_errors(), unit_of_work(runtime.get_engine()) as conn:
        admin = acting_person(conn, as_user, password_stdin)
        change = department_moves.request_parent(
            conn,
            actor=admin,
            ctx=CLI_CONTEXT,
            department_id=service.department_id_by_name(conn, name),
            parent_id=service.department_id_by_name(conn, under) if under else None,
            mail=runtime.mail_on(),
        )
    console.print(f"Move of {name} {f'under {under}' if under else 'to the top level'}:")
    show_change(change)


@department_app.command("head")
def set_head(
    name: str = typer.Argument(..., help="Department name."),
    head: str = typer.Argument(..., help="Username of the new head (needs department_head)."),
    as_user: str = AS_USER,
    password_stdin: bool = SECRETS_STDIN,
) -> None:
    """Name a department's head (C1.3, C3.2), once the officer approves."""
    with user_errors(), unit_of_work(runtime.get_engine()) as conn:
        admin = acting_person(conn, as_user, password_stdin)
        change = changes.request_head(
            conn,
            actor=admin,
            ctx=CLI_CONTEXT,
            department_id=service.department_id_by_name(conn, name),
            user_id=service.user_id_by_username(conn, head),
            mail=runtime.mail_on(),
        )
    console.print(f"Head of {name}: {head}")
    show_change(change)


@department_app.command("list")
def list_departments() -> None:
    """List the departments with their parent, head and number of active people."""
    with user_errors(), unit_of_work(runtime.get_engine()) as conn:
        found = service.list_departments(conn)
        people = service.list_users(conn)
    names = {d.id: d.name for d in found}
    usernames = {p.id: p.username for p in people}
    members: dict[str, int] = {}
    for person in people:
        if person.is_active and person.department_id:
            members[person.department_id] = members.get(person.department_id, 0) + 1
    table = Table("department", "parent", "head", "people")
    for department in found:
        table.add_row(
            department.name,
            names.get(department.parent_id or "", ""),
            usernames.get(department.head_user_id or "", ""),
            str(members.get(department.id, 0)),
        )
    console.print(table)
