"""Key bookkeeping failures the caller can act on."""

from __future__ import annotations

from baomi.errors import BaomiError, Conflict


class DataKeyShredded(BaomiError):
    """C4.5.1: the data key was crypto-shredded; what it protected is gone for good."""

    status = 410
    code = "data_key_shredded"
    title = "The data key was destroyed"


class KeyInUse(Conflict):
    """A master-key version still wraps data keys, or is active, and cannot be retired."""

    code = "key_in_use"
    title = "Master key version in use"
