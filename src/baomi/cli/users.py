"""`baomi user`: people, managed by named people (三员分立); departments are cli/departments.py.

Adding people, correcting them, changing roles, moving them, enabling them again is the system
administrator's work,
done as that person (`--as`, password and code) and audited as them (C1.3); what would let an
account reach customer data waits for a security officer's approval (`baomi user approve`). The
administrator never knows a working password: a new account (or a reset one) gets a one-time
activation code, with which the person sets their own (`baomi user activate`, or the web UI's
/activate page).

The OS account at the console (the console operator, cli/identity.console_actor) adds only
the first administrator of an installation; it may still disable a person or unlock an account,
which take access away and never give it.
"""

from __future__ import annotations

import sys

import typer
from rich.table import Table
from sqlalchemy.engine import Connection

from baomi import clock, runtime
from baomi.audit.context import CLI_CONTEXT
from baomi.auth import lockout
from baomi.cli.identity import AS_USER, SECRETS_STDIN, acting_person, console_actor
from baomi.cli.output import console, fail, user_errors
from baomi.security.roles import Role
from baomi.uow import unit_of_work
from baomi.users import activation, changes, edits, service
from baomi.users.activation import Activation
from baomi.users.enable import request_enable
from baomi.users.invite import invite_user
from baomi.users.passwords import MIN_LENGTH
from baomi.users.schemas import AccountChangeOut, EmploymentType, UserEditIn, UserIn

OPTIONS = {
    "display_name": "--name",
    "employment_type": "--employment",
    "roles": "--role",
    "department_id": "--department",
    "email": "--email",
}
user_app = typer.Typer(
    help="People: add, activate, edit, roles, move, reset-password, changes, approve, disable, "
    "enable.",
    no_args_is_help=True,
)
OPTIONAL_AS = typer.Option(
    None, "--as", help="Who acts: the administrator's username (password and one-time code)."
)


def _show_activation(username: str, code: Activation) -> None:
    console.print(f"  activation code for {username}: [bold]{code.code}[/bold]")
    console.print(
        f"  valid until {code.expires_at:%Y-%m-%d %H:%M} UTC. Hand it to {username} in person: "
        "they set their own password with `baomi user activate` or at /activate."
    )


def show_change(change: AccountChangeOut | None) -> None:
    if change is None:
        console.print("  in effect now.")
    else:
        console.print(
            f"  waits for a security officer's approval: change {change.id} "
            f"(`baomi user approve {change.id} --as OFFICER`)."
        )


@user_app.command("add")
def add_user(
    username: str = typer.Argument(..., help="Login name: lower-case letters, digits, _ . -"),
    name: str = typer.Option(..., "--name", help="Display name, e.g. 张三."),
    department: str | None = typer.Option(None, "--department", help="Department name."),
    role: list[Role] = typer.Option(..., "--role", help="Repeat for several roles."),
    employment: EmploymentType = typer.Option(
        EmploymentType.FULL_TIME, "--employment", help="C1.2: full-time, part-time, support."
    ),
    email: str | None = typer.Option(
        None, "--email", help="Where notifications are mailed (optional)."
    ),
    as_user: str | None = OPTIONAL_AS,
    password_stdin: bool = SECRETS_STDIN,
) -> None:
    """Add a person; they get an activation code, their roles wait for the officer."""
    with user_errors(OPTIONS):
        user_in = UserIn(
            username=username,
            display_name=name,
            employment_type=employment,
            roles=role,
            email=email,
        )
        with unit_of_work(runtime.get_engine()) as conn:
            department_id = service.department_id_by_name(conn, department) if department else None
            if as_user is None:
                code = _first_administrator(conn, user_in, department_id)
                change = None
            else:
                admin = acting_person(conn, as_user, password_stdin)
                invitation = invite_user(
                    conn,
                    actor=admin,
                    ctx=CLI_CONTEXT,
                    username=user_in.username,
                    display_name=user_in.display_name,
                    employment_type=user_in.employment_type,
                    department_id=department_id,
                    roles=user_in.roles,
                    mail=runtime.mail_on(),
                    email=user_in.email,
                )
                code, change = invitation.activation, invitation.pending_change
    roles = ", ".join(sorted(r.value for r in user_in.roles))
    console.print(f"Added {user_in.username} ({user_in.display_name}), roles {roles}:")
    show_change(change)
    _show_activation(user_in.username, code)


def _first_administrator(
    conn: Connection, user_in: UserIn, department_id: str | None
) -> Activation:
    """The OS account sets up an installation: its first administrator, and nothing else."""
    if set(user_in.roles) != {Role.ADMINISTRATOR}:
        fail("give --as ADMINISTRATOR: only an administrator adds people (三员分立)", code=2)
    if service.active_user_ids_with_role(conn, Role.ADMINISTRATOR):
        fail("this installation has an administrator: add people --as that administrator", code=2)
    operator = console_actor()
    user_id = service.create_user(
        conn,
        actor=operator,
        ctx=CLI_CONTEXT,
        username=user_in.username,
        display_name=user_in.display_name,
        employment_type=user_in.employment_type,
        department_id=department_id,
        roles={Role.ADMINISTRATOR},
        email=user_in.email,
    )
    return activation.issue(
        conn,
        actor=operator,
        user_id=user_id,
        purpose=activation.Purpose.ACTIVATE,
        now=clock.utcnow(),
    )


def _read_new_password(from_stdin: bool) -> tuple[str, str]:
    """The activation code and the new password (twice when typed)."""
    if from_stdin:
        lines = sys.stdin.read().splitlines()
        return (lines[0] if lines else ""), (lines[1] if len(lines) > 1 else "")
    code: str = typer.prompt("Activation code")
    first: str = typer.prompt(f"New password (at least {MIN_LENGTH} characters)", hide_input=True)
    second: str = typer.prompt("Repeat the new password", hide_input=True)
    if first != second:
        fail("the two passwords differ; nothing was changed")
    return code, first


@user_app.command("activate")
def activate_user(
    username: str = typer.Argument(..., help="Your username."),
    stdin: bool = typer.Option(
        False,
        "--stdin",
        help="Read the code from stdin's first line, the password from its second.",
    ),
) -> None:
    """Set your own password with the activation code the administrator gave you."""
    code, password = _read_new_password(stdin)
    with user_errors({"password": "password"}), unit_of_work(runtime.get_engine()) as conn:
        activation.activate(conn, ctx=CLI_CONTEXT, username=username, code=code, password=password)
    console.print(f"Password set for {username}. Log in to the web UI or the API.")


@user_app.command("reset-password")
def reset_password(
    username: str = typer.Argument(..., help="Whose password to reset."),
    as_user: str = AS_USER,
    password_stdin: bool = SECRETS_STDIN,
) -> None:
    """Reset a password: it stops working, the person's sessions end, they are told."""
    with user_errors(), unit_of_work(runtime.get_engine()) as conn:
        admin = acting_person(conn, as_user, password_stdin)
        user_id = service.user_id_by_username(conn, username)
        code = activation.reset_password(
            conn, actor=admin, ctx=CLI_CONTEXT, user_id=user_id, mail=runtime.mail_on()
        )
    console.print(f"Reset the password of {username}; their sessions have ended.")
    _show_activation(username, code)
    if code.locked_until_officer_unlocks:
        console.print(
            "  the account stays locked until a security officer has confirmed with the person "
            "and unlocked it (`baomi user unlock`, or Security → Locked accounts)."
        )


@user_app.command("roles")
def set_roles(
    username: str = typer.Argument(...),
    role: list[Role] = typer.Option(..., "--role", help="The whole new set (repeat)."),
    as_user: str = AS_USER,
    password_stdin: bool = SECRETS_STDIN,
) -> None:
    """Set a person's roles: removals apply now, additions wait for the officer."""
    with user_errors(OPTIONS), unit_of_work(runtime.get_engine()) as conn:
        admin = acting_person(conn, as_user, password_stdin)
        user_id = service.user_id_by_username(conn, username)
        change = changes.request_roles(
            conn, actor=admin, ctx=CLI_CONTEXT, user_id=user_id, roles=role, mail=runtime.mail_on()
        )
    console.print(f"Roles of {username}: {', '.join(sorted(r.value for r in role))}")
    show_change(change)


@user_app.command("move")
def move_user(
    username: str = typer.Argument(...),
    department: str | None = typer.Option(None, "--department", help="The new department's name."),
    nowhere: bool = typer.Option(
        False, "--no-department", help="Out of any department (not for customer work)."
    ),
    as_user: str = AS_USER,
    password_stdin: bool = SECRETS_STDIN,
) -> None:
    """Move a person to another department, once the officer approves."""
    if (department is None) == (not nowhere):
        fail("give either --department NAME or --no-department", code=2)
    with user_errors(OPTIONS), unit_of_work(runtime.get_engine()) as conn:
        admin = acting_person(conn, as_user, password_stdin)
        change = changes.request_move(
            conn,
            actor=admin,
            ctx=CLI_CONTEXT,
            user_id=service.user_id_by_username(conn, username),
            department_id=service.department_id_by_name(conn, department) if department else None,
            mail=runtime.mail_on(),
        )
    if department is None:
        console.print(f"{username} is in no department now.")
        return
    console.print(f"Move of {username} to {department}:")
    show_change(change)


@user_app.command("edit")
def edit_user(
    username: str = typer.Argument(...),
    name: str | None = typer.Option(None, "--name", help="The new display name."),
    email: str | None = typer.Option(None, "--email", help="The new address for notifications."),
    no_email: bool = typer.Option(False, "--no-email", help="Remove the address."),
    employment: EmploymentType | None = typer.Option(
        None, "--employment", help="C1.2: full-time, part-time, support."
    ),
    as_user: str = AS_USER,
    password_stdin: bool = SECRETS_STDIN,
) -> None:
    """Correct a person's name, e-mail address or employment type, at once."""
    given: dict[str, object] = {}
    if name is not None:
        given["display_name"] = name
    if email is not None and no_email:
        fail("give --email or --no-email, not both", code=2)
    if email is not None or no_email:
        given["email"] = email
    if employment is not None:
        given["employment_type"] = employment
    if not given:
        fail("nothing to change: give --name, --email, --no-email or --employment", code=2)
    with user_errors(OPTIONS):
        edit = UserEditIn.model_validate(given)
        with unit_of_work(runtime.get_engine()) as conn:
            admin = acting_person(conn, as_user, password_stdin)
            edits.edit_user(
                conn,
                actor=admin,
                ctx=CLI_CONTEXT,
                user_id=service.user_id_by_username(conn, username),
                edit=edit,
            )
    console.print(f"Updated {username}: {', '.join(OPTIONS[f] for f in sorted(given))}.")


@user_app.command("list")
def list_users() -> None:
    """List everyone with department, employment type, roles and state."""
    with user_errors(), unit_of_work(runtime.get_engine()) as conn:
        people = service.list_users(conn)
    table = Table("username", "name", "department", "employment", "roles", "state")
    for person in people:
        if not person.is_active:
            state = "[red]disabled[/red]"
        elif person.activation_pending:
            state = "[yellow]activation pending[/yellow]"
        else:
            state = "active"
        table.add_row(
            person.username,
            person.display_name,
            person.department_name or "",
            person.employment_type.value,
            ", ".join(r.value for r in person.roles),
            state,
        )
    console.print(table)


@user_app.command("disable")
def disable_user(username: str = typer.Argument(...)) -> None:
    """Disable a person: no more logins, tokens revoked, the record kept for audit (C4.5.3)."""
    with user_errors(), unit_of_work(runtime.get_engine()) as conn:
        user_id = service.user_id_by_username(conn, username)
        if not any(u.id == user_id and u.is_active for u in service.list_users(conn)):
            fail(f"{username} is already disabled")
        service.disable_user(conn, actor=console_actor(), ctx=CLI_CONTEXT, user_id=user_id)
    console.print(f"Disabled {username}; their sessions are revoked.")


@user_app.command("enable")
def enable_user(
    username: str = typer.Argument(...),
    as_user: str = AS_USER,
    password_stdin: bool = SECRETS_STDIN,
) -> None:
    """Enable a disabled person; with customer data, once the officer approves (C4.2.1)."""
    with user_errors(), unit_of_work(runtime.get_engine()) as conn:
        admin = acting_person(conn, as_user, password_stdin)
        change = request_enable(
            conn,
            actor=admin,
            ctx=CLI_CONTEXT,
            user_id=service.user_id_by_username(conn, username),
            mail=runtime.mail_on(),
        )
    console.print(f"Enable {username} (they sign in with the password they had):")
    show_change(change)


@user_app.command("unlock")
def unlock_user(username: str = typer.Argument(...)) -> None:
    """Unlock a person locked out by failed logins, forgetting the failures (C4.2.4)."""
    with user_errors(), unit_of_work(runtime.get_engine()) as conn:
        user_id = service.user_id_by_username(conn, username)
        was_locked = lockout.unlock(conn, actor=console_actor(), ctx=CLI_CONTEXT, user_id=user_id)
    console.print(f"Unlocked {username}." if was_locked else f"{username} was not locked.")
