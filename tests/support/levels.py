"""The default level rules (C2.2), for tests that call the policy or the approval machine
without a vault: the template a vault built without settings carries (customers/vault.py)."""

from __future__ import annotations

# The record's field catalog, which the rules mask by, is described to security/ on import.
import baomi.customers.fields  # noqa: F401
from baomi.security.levels import DEFAULT_ENABLED, build_levels

DEFAULT_LEVELS = build_levels(",".join(DEFAULT_ENABLED))
