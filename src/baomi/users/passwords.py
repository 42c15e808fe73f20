"""Password hashing with argon2id (OWASP ASVS V6)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the username is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("baomi: no such user")

MIN_LENGTH = 12
# zxcvbn's 0-4 scale: 3 is "safely unguessable: moderate protection from offline attacks".
MIN_SCORE = 3
# Only the start is scored: zxcvbn is slow on very long input, and that part decides anyway.
_SCORED_LENGTH = 64


def hash_password(password: str) -> str:
    """Return an argon2id hash of the password."""
    return _hasher.hash(password)


# Stored instead of a hash until the person sets a password with their activation code
# (users/activation.py): it is no argon2 hash, so no password ever matches it.
NO_PASSWORD = "!activation-pending"  # noqa: S105 - a marker, not a password


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; a missing hash still spends the verification time."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    # The 30,000 most common leaked passwords, bundled offline with zxcvbn (ASVS V6.2.4).
    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, user_inputs: Sequence[str] = ()) -> str | None:
    """Return why a new password is unacceptable, or None (ASVS V6.2; C4.2.4).

    `user_inputs` (username, display name) count as known words for the strength estimate.
    """
    if len(password) < MIN_LENGTH:
        return f"password must have at least {MIN_LENGTH} characters"
    if len(set(password)) < 5:
        return "password is too repetitive"
    if password.lower() in _common():
        return "password is on the list of commonly used passwords; choose another"
    result = zxcvbn(password[:_SCORED_LENGTH], user_inputs=[u for u in user_inputs if u])
    if int(result["score"]) < MIN_SCORE:
        feedback = result.get("feedback") or {}
        hint = feedback.get("warning") or " ".join(feedback.get("suggestions") or [])
        why = f" ({hint.rstrip('.')})" if hint else ""
        return f"password is too easy to guess{why}: use a longer passphrase of unrelated words"
    return None
