"""Envelope encryption: field ciphertexts and wrapped keys fail when tampered with or moved.

C4.2.2: customer data is stored only as field-level ciphertext under managed keys.
"""

from __future__ import annotations

import threading

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from baomi.crypto.aad import encode_aad
from baomi.crypto.envelope import FieldCipher, unwrap_data_key
from baomi.crypto.errors import DecryptionError
from baomi.crypto.keys import EnvKeyProvider
from baomi.crypto.wrapping import new_data_key, rewrap_data_key, wrap_data_key

KEY = new_data_key()
CIPHER = FieldCipher(KEY, "dk-1")
names = st.text(min_size=0, max_size=12)
Place = tuple[str, str, str]
places = st.tuples(names, names, names)


def flip(data: bytes, position: int, mask: int) -> bytes:
    out = bytearray(data)
    out[position] ^= mask
    return bytes(out)


@given(plaintext=st.binary(max_size=256), place=places)
def test_round_trip(plaintext: bytes, place: Place) -> None:
    table, field, record = place
    ct = CIPHER.encrypt(
        revision=None, table=table, field=field, record_id=record, plaintext=plaintext
    )
    assert ct[0] == 1 and len(ct) == 1 + 12 + len(plaintext) + 16
    assert (
        CIPHER.decrypt(revision=None, table=table, field=field, record_id=record, ciphertext=ct)
        == plaintext
    )


@given(plaintext=st.binary(max_size=64), data=st.data())
def test_any_flipped_byte_is_rejected(plaintext: bytes, data: st.DataObject) -> None:
    ct = CIPHER.encrypt(
        revision=None, table="customers", field="phones", record_id="r1", plaintext=plaintext
    )
    tampered = flip(ct, data.draw(st.integers(0, len(ct) - 1)), data.draw(st.integers(1, 255)))
    with pytest.raises(DecryptionError):
        CIPHER.decrypt(
            revision=None, table="customers", field="phones", record_id="r1", ciphertext=tampered
        )


@given(source=places, target=places)
def test_a_ciphertext_moved_to_another_table_field_or_record_is_rejected(
    source: Place, target: Place
) -> None:
    if source == target:
        return
    ct = CIPHER.encrypt(
        revision=None,
        table=source[0],
        field=source[1],
        record_id=source[2],
        plaintext=b"13800138000",
    )
    with pytest.raises(DecryptionError):
        CIPHER.decrypt(
            revision=None, table=target[0], field=target[1], record_id=target[2], ciphertext=ct
        )


def test_length_prefixes_keep_contexts_apart() -> None:
    # Without length prefixes ("ab", "c") and ("a", "bc") would be the same AAD.
    ct = CIPHER.encrypt(revision=None, table="ab", field="c", record_id="r", plaintext=b"x")
    with pytest.raises(DecryptionError):
        CIPHER.decrypt(revision=None, table="a", field="bc", record_id="r", ciphertext=ct)
    assert encode_aad(b"ab", b"c") != encode_aad(b"a", b"bc")


def test_a_ciphertext_under_another_data_key_or_key_id_is_rejected() -> None:
    ct = CIPHER.encrypt(
        revision=None, table="customers", field="name", record_id="r1", plaintext=b"x"
    )
    for other in (FieldCipher(KEY, "dk-2"), FieldCipher(new_data_key(), "dk-1")):
        with pytest.raises(DecryptionError):
            other.decrypt(
                revision=None, table="customers", field="name", record_id="r1", ciphertext=ct
            )


def test_field_aad_is_the_documented_layout() -> None:
    """The AAD is table, field, record and data-key id, length-prefixed (C4.2.2)."""
    for record in ("r1", "r2", "r1"):  # the last record's part is remembered: check it is right
        ct = CIPHER.encrypt(
            revision=None, table="customers", field="name", record_id=record, plaintext=b"x"
        )
        aad = encode_aad(b"baomi:field", b"\x01", b"dk-1", b"customers", b"name", record.encode())
        assert AESGCM(KEY).decrypt(ct[1:13], ct[13:], aad) == b"x"
    # With a revision (issue 17.9) the record part is the id and the revision, 8 bytes big-endian.
    ct = CIPHER.encrypt(table="customers", field="name", record_id="r1", plaintext=b"x", revision=3)
    record = encode_aad(b"r1", (3).to_bytes(8, "big"))
    aad = encode_aad(b"baomi:field", b"\x01", b"dk-1", b"customers", b"name") + record
    assert AESGCM(KEY).decrypt(ct[1:13], ct[13:], aad) == b"x"


def test_interleaved_records_on_one_cipher_stay_bound_to_their_own() -> None:
    cipher = FieldCipher(new_data_key(), "dk-3")
    records = ["r1", "r2", "r10", ""]
    cts = {
        r: cipher.encrypt(
            revision=None, table="customers", field="name", record_id=r, plaintext=r.encode()
        )
        for r in records
    }
    for record in ["r1", "r2", "r2", "r1", "r10", "", "r1"]:
        ct = cts[record]
        assert (
            cipher.decrypt(
                revision=None, table="customers", field="name", record_id=record, ciphertext=ct
            )
            == record.encode()
        )
        for other in records:
            if other != record:  # right after a success on `record`, a moved ciphertext fails
                with pytest.raises(DecryptionError):
                    cipher.decrypt(
                        revision=None,
                        table="customers",
                        field="name",
                        record_id=record,
                        ciphertext=cts[other],
                    )


def test_threads_sharing_a_cipher_never_open_another_records_ciphertext() -> None:
    cipher = FieldCipher(new_data_key(), "dk-4")
    records = [f"record-{n}" for n in range(6)]
    cts = {
        r: cipher.encrypt(
            revision=None, table="customers", field="notes", record_id=r, plaintext=r.encode()
        )
        for r in records
    }
    failures: list[str] = []
    start = threading.Barrier(len(records))

    def work(record: str) -> None:
        start.wait()
        other = cts[records[(records.index(record) + 1) % len(records)]]
        for _ in range(2_000):
            got = cipher.decrypt(
                revision=None,
                table="customers",
                field="notes",
                record_id=record,
                ciphertext=cts[record],
            )
            if got != record.encode():
                failures.append(f"{record} read {got!r}")
            try:
                cipher.decrypt(
                    revision=None,
                    table="customers",
                    field="notes",
                    record_id=record,
                    ciphertext=other,
                )
                failures.append(f"{record} opened a moved ciphertext")
            except DecryptionError:
                pass

    threads = [threading.Thread(target=work, args=(r,)) for r in records]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


@pytest.mark.parametrize("ct", [b"", b"\x01", b"\x01" + bytes(27), b"\x02" + bytes(40)])
def test_malformed_ciphertexts_are_rejected(ct: bytes) -> None:
    with pytest.raises(DecryptionError):
        CIPHER.decrypt(
            revision=None, table="customers", field="name", record_id="r1", ciphertext=ct
        )


def test_nonces_never_repeat() -> None:
    cts = [
        CIPHER.encrypt(
            revision=None, table="customers", field="name", record_id="r1", plaintext=b"same"
        )
        for _ in range(20_000)
    ]
    assert len({ct[1:13] for ct in cts}) == len(cts)


def test_field_cipher_does_not_show_its_key() -> None:
    assert KEY.hex() not in repr(CIPHER) and repr(KEY) not in repr(CIPHER)
    with pytest.raises(ValueError):
        FieldCipher(b"short", "dk")


@given(owner=names, data=st.data())
def test_wrapped_keys_round_trip_and_reject_any_flipped_byte(
    env_provider: EnvKeyProvider, owner: str, data: st.DataObject
) -> None:
    key = new_data_key()
    wrapped = wrap_data_key(env_provider, owner_id=owner, version=2, data_key=key)
    assert unwrap_data_key(env_provider, owner_id=owner, version=2, wrapped=wrapped) == key
    position = data.draw(st.integers(0, len(wrapped) - 1))
    tampered = flip(wrapped, position, data.draw(st.integers(1, 255)))
    with pytest.raises(DecryptionError):
        unwrap_data_key(env_provider, owner_id=owner, version=2, wrapped=tampered)


@given(owner=names, other=names)
def test_a_wrapped_key_moved_to_another_owner_is_rejected(
    env_provider: EnvKeyProvider, owner: str, other: str
) -> None:
    if owner == other:
        return
    wrapped = wrap_data_key(env_provider, owner_id=owner, version=1, data_key=new_data_key())
    with pytest.raises(DecryptionError):
        unwrap_data_key(env_provider, owner_id=other, version=1, wrapped=wrapped)


def test_a_wrapped_key_moved_to_another_master_version_is_rejected(
    env_provider: EnvKeyProvider,
) -> None:
    wrapped = wrap_data_key(env_provider, owner_id="c1", version=1, data_key=new_data_key())
    with pytest.raises(DecryptionError):
        unwrap_data_key(env_provider, owner_id="c1", version=2, wrapped=wrapped)


def test_rewrapping_keeps_the_key_and_binds_it_to_the_new_version(
    env_provider: EnvKeyProvider,
) -> None:
    key = new_data_key()
    old = wrap_data_key(env_provider, owner_id="c1", version=1, data_key=key)
    new = rewrap_data_key(env_provider, owner_id="c1", version=1, wrapped=old, to_version=2)
    assert unwrap_data_key(env_provider, owner_id="c1", version=2, wrapped=new) == key
    with pytest.raises(DecryptionError):
        unwrap_data_key(env_provider, owner_id="c1", version=1, wrapped=new)
    with pytest.raises(DecryptionError):
        rewrap_data_key(env_provider, owner_id="c2", version=1, wrapped=old, to_version=2)


# Attachments: chunk streams detect reordering, dropping, duplication and truncation.

chunk_lists = st.lists(st.binary(max_size=32), min_size=0, max_size=6)


def seal(chunks: list[bytes], attachment_id: str = "att-1") -> list[bytes]:
    return list(CIPHER.encrypt_stream(attachment_id=attachment_id, chunks=chunks))


def open_all(cts: list[bytes], attachment_id: str = "att-1") -> list[bytes]:
    return list(CIPHER.decrypt_stream(attachment_id=attachment_id, chunks=cts))


@given(chunks=chunk_lists)
def test_chunk_stream_round_trip(chunks: list[bytes]) -> None:
    cts = seal(chunks)
    assert len(cts) == max(1, len(chunks))
    assert b"".join(open_all(cts)) == b"".join(chunks)


@given(chunks=st.lists(st.binary(min_size=1, max_size=8), min_size=2, max_size=6), data=st.data())
def test_reordered_dropped_or_duplicated_chunks_are_rejected(
    chunks: list[bytes], data: st.DataObject
) -> None:
    cts = seal(chunks)
    i = data.draw(st.integers(0, len(cts) - 2))
    swapped = [*cts[:i], cts[i + 1], cts[i], *cts[i + 2 :]]
    j = data.draw(st.integers(0, len(cts) - 1))
    dropped = cts[:j] + cts[j + 1 :]
    duplicated = cts[: j + 1] + cts[j:]
    for broken in (swapped, dropped, duplicated):
        with pytest.raises(DecryptionError):
            open_all(broken)


def test_truncated_stream_is_rejected() -> None:
    cts = seal([b"a", b"b", b"c"])
    with pytest.raises(DecryptionError):
        open_all(cts[:2])
    with pytest.raises(DecryptionError, match="no chunks"):
        open_all([])


def test_chunks_of_another_attachment_are_rejected() -> None:
    cts = seal([b"a", b"b"], attachment_id="att-1")
    with pytest.raises(DecryptionError):
        open_all(cts, attachment_id="att-2")
    with pytest.raises(DecryptionError):
        CIPHER.decrypt_chunk(attachment_id="att-1", seq=1, final=False, ciphertext=cts[1])


def test_an_older_revision_of_a_field_fails() -> None:
    """Issue 17.9: a field's ciphertext is bound to the record's revision, so putting back an
    older ciphertext of the same field of the same record fails once the record moved on."""
    old = CIPHER.encrypt(
        table="customers", field="phones", record_id="r1", plaintext=b"old", revision=1
    )
    new = CIPHER.encrypt(
        table="customers", field="phones", record_id="r1", plaintext=b"new", revision=2
    )
    opened = CIPHER.decrypt(
        table="customers", field="phones", record_id="r1", ciphertext=new, revision=2
    )
    assert opened == b"new"
    for revision in (2, None):
        with pytest.raises(DecryptionError):
            CIPHER.decrypt(
                table="customers", field="phones", record_id="r1", ciphertext=old, revision=revision
            )
