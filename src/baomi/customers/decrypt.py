"""Opening customer data: a customer's field cipher from its wrapped data key, and its fields.

Only the customers room imports this module (the import contracts in pyproject.toml): every
caller has decided through security.policy and audits what it opens (customers.access), so
decrypting is an audited action of a service, never a side effect of loading a row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from baomi.crypto.envelope import FieldCipher, unwrap_data_key
from baomi.crypto.keys import KeyProvider
from baomi.customers.fields import FIELDS
from baomi.keystore.errors import DataKeyShredded

# The table name every customer field's AAD binds to (crypto/envelope.py).
TABLE = "customers"


def open_cipher(
    provider: KeyProvider,
    *,
    customer_id: str,
    data_key_id: str,
    version: int,
    wrapped: bytes | None,
) -> FieldCipher:
    """Unwrap a customer's data key (bound to the customer and master version)."""
    if wrapped is None:
        raise DataKeyShredded("this customer's data was destroyed (crypto-shredded)")
    key = unwrap_data_key(provider, owner_id=customer_id, version=version, wrapped=wrapped)
    return FieldCipher(key, data_key_id)


def cipher_for(provider: KeyProvider, row: Mapping[str, Any]) -> FieldCipher:
    """The cipher of a customer row loaded with its wrapped key (customers.access)."""
    return open_cipher(
        provider,
        customer_id=row["id"],
        data_key_id=row["data_key_id"],
        version=row["master_version"],
        wrapped=row["wrapped"],
    )


_DECODER = json.JSONDecoder()


def _parse(plaintext: bytes) -> Any:
    """`json.loads`, minus its whitespace scans: `seal` writes compact JSON (the hot read path)."""
    text = plaintext.decode()
    try:
        value, end = _DECODER.raw_decode(text)
    except json.JSONDecodeError:
        return json.loads(text)  # let the full parser accept or reject it
    return value if end == len(text) else json.loads(text)


_COLUMNS = {name: f"{name}_ct" for name in FIELDS}


def open_fields(
    cipher: FieldCipher, row: Mapping[str, Any], record_id: str, fields: Iterable[str]
) -> dict[str, Any]:
    """Decrypt the named fields of a customers row (only those: C4.2.1 need-to-know)."""
    decrypt = cipher.decrypt
    values: dict[str, Any] = {}
    for name in fields:
        ciphertext = row[_COLUMNS.get(name) or f"{name}_ct"]
        values[name] = (
            None
            if ciphertext is None
            else _parse(
                decrypt(table=TABLE, field=name, record_id=record_id, ciphertext=ciphertext)
            )
        )
    return values
