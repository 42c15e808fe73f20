"""What every command shares: consoles, and user errors as red messages with exit code 1.

A user error (a BaomiError, a key-file problem, input that fails a schema) is printed to stderr
with one line per field and never as a traceback; anything else is a bug and is left to surface.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from baomi.crypto.errors import CryptoError
from baomi.errors import BaomiError

# soft_wrap: a long path or id stays on one line, whole, for copying; tables still fit the width.
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def fail(message: str, *, errors: list[dict[str, str]] | None = None, code: int = 1) -> NoReturn:
    """Print an error (and its per-field errors) in red to stderr and exit."""
    err_console.print(f"[red]error:[/red] {escape(message)}")
    for item in errors or []:
        err_console.print(f"[red]  {escape(item['field'])}:[/red] {escape(item['message'])}")
    raise typer.Exit(code=code)


def field_errors(error: ValidationError) -> list[dict[str, str]]:
    """Turn a pydantic error into the same field/message pairs the services use."""
    return [
        {
            "field": ".".join(str(part) for part in item.get("loc", ())) or "input",
            "message": str(item.get("msg", "invalid")),
        }
        for item in error.errors()
    ]


def _renamed(errors: list[dict[str, str]], options: Mapping[str, str]) -> list[dict[str, str]]:
    return [{**e, "field": options.get(e["field"], e["field"])} for e in errors]


@contextmanager
def user_errors(options: Mapping[str, str] | None = None) -> Iterator[None]:
    """Turn the errors a user can fix into a red message and exit code 1.

    `options` names the command-line option behind a service field (duration_hours → --hours).
    """
    names = options or {}
    try:
        yield
    except BaomiError as error:
        extra: dict[str, Any] = error.extra
        errors = extra.get("errors") if isinstance(extra.get("errors"), list) else None
        if errors:
            fail("validation failed", errors=_renamed(errors, names))
        fail(error.detail)
    except ValidationError as error:
        fail("validation failed", errors=_renamed(field_errors(error), names))
    except CryptoError as error:
        fail(str(error))
