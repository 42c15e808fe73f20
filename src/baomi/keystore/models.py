"""Key bookkeeping: master-key versions, per-customer data keys, rotation progress.

Key material is never stored here in the clear: master keys live with a key provider outside the
database, data keys only wrapped under a master-key version (C4.2.2).
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Integer, LargeBinary, String, Table

from baomi.db import UTCDateTime, metadata

master_key_versions = Table(
    "master_key_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    # active: wraps new data keys; previous: still unwraps; retired: refused.
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("retired_at", UTCDateTime(), nullable=True),
)

data_keys = Table(
    "data_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("owner_id", String(36), nullable=False, unique=True),
    Column(
        "master_version",
        Integer,
        ForeignKey("master_key_versions.version"),
        nullable=False,
        index=True,
    ),
    Column("wrapped", LargeBinary, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("rewrapped_at", UTCDateTime(), nullable=True),
    # C4.5.1 crypto-shredding: the wrapped key is erased and this stamp set.
    Column("shredded_at", UTCDateTime(), nullable=True),
)

key_rotations = Table(
    "key_rotations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("target_version", Integer, nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("rewrapped", Integer, nullable=False, default=0),
)

# Issue 17: an HMAC of a fixed label under each key ("master:<version>", "index"), so that a
# wrong key is refused by name at start and by `baomi doctor` (migration 0012).
key_check_values = Table(
    "key_check_values",
    metadata,
    Column("key_name", String(32), primary_key=True),
    Column("check_value", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

# Issue 19: each running `baomi serve` and the master-key versions it holds, refreshed while it
# runs, so that a rotation to a version some instance lacks is refused (migration 0013).
app_instances = Table(
    "app_instances",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("key_versions", JSON, nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("seen_at", UTCDateTime(), nullable=False),
    Column("stopped_at", UTCDateTime(), nullable=True),
)
