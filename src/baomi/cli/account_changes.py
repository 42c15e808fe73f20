"""`baomi user changes | approve | reject`: the security officer's side of dual control (三员分立).

Roles added, heads named, moves (of people and of departments) and accounts enabled again wait
here until a named security officer (`--as`) decides; the administrator sees the same list.
Registered on `baomi user` in cli/main.py.
"""

from __future__ import annotations

import typer
from rich.table import Table

from baomi import runtime
from baomi.audit.context import CLI_CONTEXT
from baomi.cli.identity import AS_USER, SECRETS_STDIN, acting_person
from baomi.cli.output import console, user_errors
from baomi.uow import unit_of_work
from baomi.users import changes, service
from baomi.users.schemas import AccountChangeOut, ChangeKind, ChangeStatus


def list_changes(
    pending: bool = typer.Option(False, "--pending", help="Only those waiting for a decision."),
    as_user: str = AS_USER,
    password_stdin: bool = SECRETS_STDIN,
) -> None:
    """List account changes, newest first (the administrator or the security officer)."""
    with user_errors(), unit_of_work(runtime.get_engine()) as conn:
        person = acting_person(conn, as_user, password_stdin)
        status = ChangeStatus.PENDING if pending else None
        found = changes.list_changes(conn, actor=person, ctx=CLI_CONTEXT, status=status)
        names = {u.id: u.username for u in service.list_users(conn)}
        depts = {d.id: d.name for d in service.list_departments(conn)}
    table = Table(
        "change", "user / department", "kind", "before", "after", "status", "asked by",
        "decided by",
    )  # fmt: skip
    for c in found:
        before, after = _before_after(c, depts)
        if c.user_id is not None:
            subject = names.get(c.user_id, c.user_id)
        else:  # kind parent: a department moves
            subject = f"department {depts.get(c.department_id or '', c.department_id)}"
        table.add_row(
            c.id,
            subject,
            c.kind,
            before,
            after,
            c.status,
            names.get(c.requested_by or "", ""),
            names.get(c.decided_by or "", ""),
        )
    console.print(table)


def _before_after(change: AccountChangeOut, depts: dict[str, str]) -> tuple[str, str]:
    """What a change replaces and with what, in words: roles, departments, or parents."""
    if change.kind == ChangeKind.ROLES:
        return ", ".join(change.roles_before or []), ", ".join(change.roles_after or [])
    if change.kind == ChangeKind.ENABLE:
        return "disabled", "enabled"
    if change.kind == ChangeKind.PARENT:
        # The parents; NULL is the top level (users/department_moves.py).
        def under(dept_id: str | None) -> str:
            return f"under {depts.get(dept_id, dept_id)}" if dept_id else "top level"

        return under(change.department_before), under(change.department_after)
    before = depts.get(change.department_before or "", "")
    if change.kind == ChangeKind.HEAD:
        return before, f"head of {depts.get(change.department_after or '', '')}"
    return before, depts.get(change.department_after or "", "")


def _decide(change_id: str, approve: bool, as_user: str, stdin: bool, comment: str | None) -> None:
    with user_errors(), unit_of_work(runtime.get_engine()) as conn:
        officer = acting_person(conn, as_user, stdin)
        changes.decide(
            conn,
            actor=officer,
            ctx=CLI_CONTEXT,
            change_id=change_id,
            approve=approve,
            mail=runtime.mail_on(),
            comment=comment,
        )
    console.print(f"Change {change_id} {'approved: in effect now' if approve else 'rejected'}.")


COMMENT = typer.Option(None, "--comment", help="Why (kept with the decision).")


def approve_change(
    change_id: str = typer.Argument(...),
    comment: str | None = COMMENT,
    as_user: str = AS_USER,
    password_stdin: bool = SECRETS_STDIN,
) -> None:
    """Approve an account change as a security officer: it takes effect now."""
    _decide(change_id, True, as_user, password_stdin, comment)


def reject_change(
    change_id: str = typer.Argument(...),
    comment: str | None = COMMENT,
    as_user: str = AS_USER,
    password_stdin: bool = SECRETS_STDIN,
) -> None:
    """Reject an account change as a security officer: nothing changes."""
    _decide(change_id, False, as_user, password_stdin, comment)
