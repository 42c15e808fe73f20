"""How sensitive a customer field is: the vocabulary the field catalog and the policy share.

It lives apart from both so that neither imports the other for it (customers.fields names each
field's sensitivity; security.policy and security.levels mask by it).
"""

from __future__ import annotations

from enum import StrEnum


class Sensitivity(StrEnum):
    NORMAL = "normal"
    # Masked at levels whose rule lists them (机密 and above by default, security.levels).
    CONTACT = "contact"
    # Masked for everyone, always, until revealed: ID numbers, payment details, sensitive notes.
    SENSITIVE = "sensitive"
