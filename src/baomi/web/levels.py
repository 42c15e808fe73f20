"""The company's level rules (C2.2) as the pages read them: the app's vault's, the very rules the
customer door applies, so a page never offers or names a level the service would not."""

from __future__ import annotations

from fastapi import Request

from baomi.customers.vault import Vault
from baomi.security.levels import Levels


def vault_of(request: Request) -> Vault:
    """Return the vault of the application serving `request` (keys, tags, rules)."""
    vault: Vault = request.app.state.vault
    return vault


def levels_of(request: Request) -> Levels:
    """Return the level rules of the application serving `request`."""
    vault: Vault = request.app.state.vault
    return vault.levels
