"""One-time codes for the test people: each step's code once per server, then recovery codes.

A server accepts one step either side of its own and each code once. The previous step's code is
never used: a step boundary passing before the login reaches the server would make it too old
(a flaky failure under load); steps now and now+1 stay good for 30 s or more.
"""

from __future__ import annotations

from collections.abc import Hashable

from baomi import clock
from baomi.auth.totp import code_at, step_at
from tests.support.org import TOTP_SECRETS, recovery_codes

# Per server (any key naming it) and person: the last step used and the recovery codes spent.
_LAST_STEP: dict[tuple[Hashable, str], int] = {}
_SPENT: dict[tuple[Hashable, str], int] = {}


def unused_totp(server: Hashable, username: str) -> str | None:
    """A TOTP code of `username` not yet used on `server`, or None when both good steps are."""
    key = (server, username)
    now = step_at(clock.utcnow())
    step = max(now, _LAST_STEP.get(key, now - 1) + 1)
    if step > now + 1:
        return None
    _LAST_STEP[key] = step
    return code_at(TOTP_SECRETS[username], step)


def unused_code(server: Hashable, username: str) -> str:
    """An unused TOTP code, else the next unused recovery code of `username` on `server`."""
    if (code := unused_totp(server, username)) is not None:
        return code
    key = (server, username)
    spent = _SPENT.get(key, 0)
    _SPENT[key] = spent + 1
    return recovery_codes(username)[spent]
