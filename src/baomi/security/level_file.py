"""The company's level rules as configured: BAOMI_LEVELS and BAOMI_HOME/levels.toml (C2.2).

Reading and checking the file lives apart from the rules themselves (security/levels.py): this
is the one place that touches the settings and the disk; everything else is given a `Levels`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from baomi.errors import ValidationFailed
from baomi.security.levels import LEVELS_FILE, LevelConfigError, Levels, build_levels

if TYPE_CHECKING:
    from baomi.config import Settings


def read_overrides(path: Path) -> dict[str, Any] | None:
    """Return the parsed override file, or None when there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise LevelConfigError(
            [{"field": str(path), "code": "file_unreadable", "message": f"cannot be read: {error}"}]
        ) from error
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise LevelConfigError(
            [
                {
                    "field": str(path),
                    "code": "file_not_toml",
                    "message": f"is not valid TOML: {error}",
                }
            ]
        ) from error


def load_levels(settings: Settings) -> Levels:
    """Build the rules from BAOMI_LEVELS and BAOMI_HOME/levels.toml; a bad file is an error."""
    path = settings.home / LEVELS_FILE
    try:
        return build_levels(settings.levels, read_overrides(path))
    except LevelConfigError as error:
        errors: list[ValidationFailed.Item] = [
            {"field": f"{path}: {e['field']}", "code": e["code"], "message": e["message"]}
            if e["field"] not in (str(path), "BAOMI_LEVELS")
            else e
            for e in error.extra["errors"]
        ]
        raise LevelConfigError(errors) from None


def check_in_force(settings: Settings, levels: Levels) -> None:
    """Fail at start unless `levels` are the rules the settings configure (C2.2).

    A bad BAOMI_LEVELS or levels.toml stops the application here; so do rules built some other
    way (the defaults, say), which would quietly leave the company's own rules unapplied.
    """
    if load_levels(settings) != levels:
        raise RuntimeError(
            "the level rules given to the application are not those BAOMI_LEVELS and "
            f"{settings.home / LEVELS_FILE} configure: build them with load_levels(settings)"
        )
