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
from baomi.crypto.errors import DecryptionError
from baomi.crypto.keys import KeyProvider
from baomi.customers.fields import FIELDS
from baomi.keystore.errors import DataKeyShredded

# The table name every customer field's AAD binds to (crypto/envelope.py).
TABLE = "customers"
# The part of a record named when its wrapped data key, rather than one field, fails.
DATA_KEY = "data_key"
# The part named when the columns that decide access fail their row tag (customers/row_tag.py).
ACCESS_COLUMNS = "access_columns"
# The part named when a grant on the customer fails its row tag (grants/tags.py).
ACCESS_GRANT = "access_grant"
# Where the record came from (C4.1.1): free text, so sealed like a field (issue 17.9), though
# no field of the catalog: it is shown with every read, masked never.
SOURCE = "source"


class DamagedRecord(DecryptionError):
    """A customer's stored data failed authentication: its wrapped data key, or one field.

    Names the customer and the part (a field's name, or DATA_KEY), never a value, so that the
    read can be refused or passed over, audited and reported (customers/integrity.py, issue 17).
    """

    def __init__(self, customer_id: str, part: str) -> None:
        super().__init__(f"stored data of customer {customer_id} failed authentication: {part}")
        self.customer_id = customer_id
        self.part = part


def open_cipher(
    provider: KeyProvider,
    *,
    customer_id: str,
    data_key_id: str,
    version: int,
    wrapped: bytes | None,
) -> FieldCipher:
    """Unwrap a customer's data key (bound to the customer and master version); a wrapping that
    fails authentication raises DamagedRecord (DATA_KEY)."""
    if wrapped is None:
        raise DataKeyShredded("this customer's data was destroyed (crypto-shredded)")
    try:
        key = unwrap_data_key(provider, owner_id=customer_id, version=version, wrapped=wrapped)
    except DecryptionError:
        raise DamagedRecord(customer_id, DATA_KEY) from None
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
    """Decrypt the named fields of a customers row (only those: C4.2.1 need-to-know).

    A field that fails authentication raises DamagedRecord naming it; so does one put back from
    an earlier revision of the record (its AAD binds the revision, issue 17.9).
    """
    decrypt = cipher.decrypt
    revision = row["revision"]
    values: dict[str, Any] = {}
    for name in fields:
        ciphertext = row[_COLUMNS.get(name) or f"{name}_ct"]
        if ciphertext is None:
            values[name] = None
            continue
        try:
            plaintext = decrypt(
                table=TABLE,
                field=name,
                record_id=record_id,
                ciphertext=ciphertext,
                revision=revision,
            )
        except DecryptionError:
            raise DamagedRecord(record_id, name) from None
        values[name] = _parse(plaintext)
    return values
