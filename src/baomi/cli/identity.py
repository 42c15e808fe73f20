"""`--as USERNAME`: a CLI command that changes who may see customer data acts as a named person.

The OS account at the server's console keeps operations only (init, serve, keys, audit, jobs).
Giving or ending access is done by a person who proves who they are here, as at a login:
password, then the one-time code of an enrolled second factor. The command is then audited as
that person (C1.3), with the same throttling and lockout as the web and the API. What the person
may not do is refused by the service like over the API: a deny event naming the permission,
then an error message and exit code 1 (cli/output.user_errors).

Without --as the OS account acts as the console operator (`console_actor()`): a SystemActor
with the few permissions of the console (security/roles.SYSTEM_PERMISSIONS), audited as
os:<account>.
"""

from __future__ import annotations

import sys

import typer
from sqlalchemy.engine import Connection

from baomi import runtime
from baomi.audit.context import CLI_CONTEXT, os_account
from baomi.auth.lockout import Policy
from baomi.auth.mfa import mfa_enabled
from baomi.auth.service import confirm_person
from baomi.errors import NotAuthenticated, NotFound
from baomi.security.actor import Actor, SystemActor, console_operator
from baomi.users.actors import load_actor
from baomi.users.service import user_id_by_username

AS_USER = typer.Option(
    ..., "--as", help="Who acts: your username (you give your password and one-time code)."
)
SECRETS_STDIN = typer.Option(
    False,
    "--password-stdin",
    help="Read the password from the first line of stdin and the one-time code from the second.",
)


def _secrets(conn: Connection, username: str, from_stdin: bool) -> tuple[str, str | None]:
    if from_stdin:
        lines = sys.stdin.read().splitlines()
        password = lines[0] if lines else ""
        return password, (lines[1].strip() if len(lines) > 1 else None)
    password = typer.prompt(f"Password of {username}", hide_input=True)
    try:
        enrolled = mfa_enabled(conn, user_id_by_username(conn, username))
    except NotFound:
        enrolled = False  # unknown names get the same generic refusal below
    otp = typer.prompt("One-time code (or a recovery code)") if enrolled else None
    return password, otp


def acting_person(conn: Connection, username: str, secrets_from_stdin: bool) -> Actor:
    """Authenticate the person named by --as and return them as the command's actor."""
    password, otp = _secrets(conn, username, secrets_from_stdin)
    user_id = confirm_person(
        conn,
        ctx=CLI_CONTEXT,
        username=username,
        password=password,
        otp=otp,
        provider=runtime.get_key_provider(),
        policy=Policy.from_settings(runtime.settings()),
    )
    actor = load_actor(conn, user_id)
    if actor is None:  # disabled between the check and now
        raise NotAuthenticated("invalid username or password", code="invalid_credentials")
    return actor


def console_actor() -> SystemActor:
    """The OS account running this command without --as, as the command's actor."""
    return console_operator(os_account())
