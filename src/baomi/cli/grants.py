"""`baomi grant`: emergency grants and their end (C4.2.1, C4.3.1).

Access is given by approved access requests; `grant add` gives an emergency grant outside that
process (a stated reason, at most a day, the customer's handler and heads told at once). Adding
or revoking acts as a named security officer (`--as`, password and code), audited as them,
never as the OS account, which may only list them (as the console operator, cli/identity).
Grants show ids, people and windows only, never customer data.
"""

from __future__ import annotations

from datetime import datetime

import typer
from rich.table import Column, Table
from sqlalchemy.engine import Connection

from baomi import clock, runtime
from baomi.audit.context import CLI_CONTEXT
from baomi.cli.identity import AS_USER, SECRETS_STDIN, acting_person, console_actor
from baomi.cli.output import console, user_errors
from baomi.crypto.row_tags import RowTagger
from baomi.errors import ValidationFailed
from baomi.grants import service
from baomi.grants.schemas import GrantIn, GrantOut
from baomi.security.actor import Actor
from baomi.security.level_file import load_levels
from baomi.uow import unit_of_work
from baomi.users import service as users

OPTIONS = {"duration_hours": "--hours", "user_id": "--user", "customer_id": "--customer"}
app = typer.Typer(help="Time-bound access grants: add, revoke, list.", no_args_is_help=True)


# Ids are UUIDs (36 characters); a prefix this long is enough to name one among a company's.
ID_LENGTH, MIN_PREFIX = 36, 8


def _window(grant: GrantOut) -> str:
    return f"{grant.starts_at:%Y-%m-%d %H:%M} → {grant.ends_at:%Y-%m-%d %H:%M} UTC"


def _state(grant: GrantOut, now: datetime) -> str:
    if grant.revoked_at is not None:
        return "revoked"
    if grant.active:
        return "active"
    return "expired" if grant.ends_at <= now else "not started"


def _kind(grant: GrantOut) -> str:
    if not grant.emergency:
        return "request"
    return "emergency, reviewed" if grant.reviewed_at else "[yellow]emergency[/yellow]"


@app.command("add")
def add(
    user: str = typer.Option(..., "--user", help="Username of the person receiving access."),
    customer: str = typer.Option(..., "--customer", help="Customer id."),
    field: list[str] | None = typer.Option(
        None, "--field", help="Limit to these fields (repeat); default: the whole record."
    ),
    hours: int = typer.Option(
        ..., "--hours", help="How long it lasts (at most BAOMI_EMERGENCY_GRANT_MAX_HOURS, 24)."
    ),
    purpose: str = typer.Option(..., "--purpose", help="Why access cannot wait for approval."),
    as_user: str = AS_USER,
    password_stdin: bool = SECRETS_STDIN,
) -> None:
    """Give an emergency grant: one person, one customer, a few hours; it expires by itself."""
    with user_errors(OPTIONS), unit_of_work(runtime.get_engine()) as conn:
        officer = acting_person(conn, as_user, password_stdin)
        grant_in = GrantIn(
            user_id=users.user_id_by_username(conn, user),
            customer_id=customer,
            fields=field or None,
            duration_hours=hours,
            purpose=purpose,
        )
        grant = service.create_emergency_grant(
            conn,
            actor=officer,
            ctx=CLI_CONTEXT,
            grant_in=grant_in,
            levels=load_levels(runtime.get_settings()),
            tags=RowTagger(runtime.get_key_provider().index_root_key()),
            max_hours=runtime.get_settings().emergency_grant_max_hours,
            mail=runtime.mail_on(),
        )
    scope = ", ".join(grant.fields) if grant.fields else "the whole record"
    console.print(f"Emergency grant {grant.id}: {user} may see {scope} of customer {customer}")
    console.print(f"  valid {_window(grant)}; the customer's handler and heads have been told")


@app.command("revoke")
def revoke(
    grant_id: str = typer.Argument(..., help="The grant id."),
    as_user: str = AS_USER,
    password_stdin: bool = SECRETS_STDIN,
) -> None:
    """End a grant now."""
    with user_errors(), unit_of_work(runtime.get_engine()) as conn:
        person = acting_person(conn, as_user, password_stdin)
        grant_id = _whole_id(conn, person, grant_id)
        service.revoke_grant(
            conn,
            actor=person,
            ctx=CLI_CONTEXT,
            grant_id=grant_id,
            mail=runtime.mail_on(),
            tags=RowTagger(runtime.get_key_provider().index_root_key()),
        )
    console.print(f"Grant {grant_id} revoked.")


def _whole_id(conn: Connection, person: Actor, given: str) -> str:
    """The grant id `given` names: a whole id, or a prefix only one grant's id starts with."""
    if len(given) >= ID_LENGTH or len(given) < MIN_PREFIX:
        return given  # the service says whether it exists
    matches = [
        g.id for g in service.list_grants(conn, actor=person, ctx=CLI_CONTEXT)
        if g.id.startswith(given)
    ]  # fmt: skip
    if len(matches) > 1:
        raise ValidationFailed(
            [{"field": "grant_id", "code": "id_ambiguous", "message": f"{given!r} starts "
              f"{len(matches)} grant ids: give more of it"}]
        )  # fmt: skip
    return matches[0] if matches else given


@app.command("list")
def list_(
    user: str | None = typer.Option(None, "--user", help="Only this person's grants."),
    active: bool = typer.Option(False, "--active", help="Only grants in force now."),
) -> None:
    """List grants, newest first."""
    with user_errors(), unit_of_work(runtime.get_engine()) as conn:
        user_id = users.user_id_by_username(conn, user) if user else None
        grants = service.list_grants(
            conn, actor=console_actor(), ctx=CLI_CONTEXT, user_id=user_id, active_only=active
        )
        names = {u.id: u.username for u in users.list_users(conn)}
    now = clock.utcnow()
    # Whole ids, never cropped: `grant revoke` needs them (or a unique prefix).
    table = Table(
        Column("grant", no_wrap=True, min_width=ID_LENGTH),
        "kind",
        "user",
        Column("customer", no_wrap=True, min_width=ID_LENGTH),
        "fields",
        "window",
        "purpose",
        "state",
    )
    for grant in grants:
        state = _state(grant, now)
        table.add_row(
            grant.id,
            _kind(grant),
            names.get(grant.user_id, grant.user_id),
            grant.customer_id,
            ", ".join(grant.fields) if grant.fields else "all",
            _window(grant),
            grant.purpose,
            state,
        )
    console.print(table)
