"""Who is acting and from where: carried from the request, command or job into every event."""

from __future__ import annotations

import getpass
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Request id and client address of the unit of work that is being audited.

    `operator` names who acts when no user is logged in: the operating-system account running a
    CLI command on the server, or a scheduled job (C1.3: nothing is anonymous).
    """

    request_id: str | None = None
    client_addr: str | None = None
    operator: str | None = None


def os_account() -> str:
    """Return the name of the operating-system account running this process."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def cli_context() -> RequestContext:
    """Return the context of a CLI command run on this machine."""
    return RequestContext(client_addr="cli", operator=f"os:{os_account()}")


CLI_CONTEXT = cli_context()


def job_context(job: str) -> RequestContext:
    """Return the context of a scheduled job: the system acts, named by the job (C1.3)."""
    return RequestContext(client_addr="job", operator=f"system:{job}"[:64])
