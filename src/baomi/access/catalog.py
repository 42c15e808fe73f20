"""The kinds of request the machine knows, one registration each (access.kinds).

A new kind (an export C4.3.3, an internal share C4.4.1, external provision C4.4.3, destruction
C4.5.1, a handover C4.5.2) is one module implementing `RequestKind` and one `register` line here;
its own route files it with `service.submit`, and approving, rejecting, listing, notices and audit
come with the machine.
"""

from __future__ import annotations

from typing import Any, TypeVar

from baomi.access.kind_access import AccessKind
from baomi.access.kind_level_change import LevelChangeKind
from baomi.access.kinds import RequestKind

_KINDS: dict[str, RequestKind[Any]] = {}
K = TypeVar("K", bound=RequestKind[Any])

# The longest code access_requests.kind holds.
MAX_CODE = 16


def register(kind: K) -> K:
    """Make `kind` known to the machine by its code, once; return it."""
    if not kind.code or len(kind.code) > MAX_CODE:
        raise ValueError(f"a kind's code has 1 to {MAX_CODE} characters: {kind.code!r}")
    if kind.code in _KINDS:
        raise ValueError(f"a kind {kind.code!r} is already registered")
    _KINDS[kind.code] = kind
    return kind


def kind_of(code: str) -> RequestKind[Any]:
    """Return the registered kind with this code (a stored request names it)."""
    try:
        return _KINDS[code]
    except KeyError:
        raise LookupError(f"no request kind {code!r} is registered") from None


ACCESS = register(AccessKind())  # C4.3.1
LEVEL_CHANGE = register(LevelChangeKind())  # C2.2
