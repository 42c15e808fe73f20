"""`baomi keys rotate` and `retire` with damaged wrapped keys (issue 17.3, C4.2.2, C5)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update

from baomi import runtime
from baomi.ids import new_id
from baomi.keystore.models import data_keys
from baomi.keystore.service import create_data_key
from baomi.uow import unit_of_work
from tests.cli.conftest import Invoke


def test_rotate_passes_over_damaged_keys_names_them_and_exits_1(
    initialised: Path, cli: Invoke
) -> None:
    """Found: one corrupted wrapped key stopped the rotation at 0 of N, naming nothing."""
    engine, provider = runtime.get_engine(), runtime.get_key_provider()
    owners = [new_id() for _ in range(5)]
    with unit_of_work(engine) as conn:
        ids = [create_data_key(conn, provider, owner_id=owner)[0] for owner in owners]
        for key_id in ids[1:3]:
            wrapped = conn.execute(
                select(data_keys.c.wrapped).where(data_keys.c.id == key_id)
            ).scalar_one()
            conn.execute(
                update(data_keys)
                .where(data_keys.c.id == key_id)
                .values(wrapped=wrapped[:-1] + bytes([wrapped[-1] ^ 1]))
            )
    result = cli("keys", "rotate", "--batch-size", "2")
    assert result.exit_code == 1, result.output
    said = " ".join(result.stderr.split())  # joined across the console's line wrapping
    assert "3 data keys rewrapped, 2 damaged" in said
    for key_id, owner in zip(ids[1:3], owners[1:3], strict=True):
        assert f"data key {key_id} (owner {owner})" in said
    assert "Traceback" not in result.output

    status = cli("keys", "status")
    assert "unfinished" in status.stdout
    retire = cli("keys", "retire", "1", "--yes")
    assert retire.exit_code == 1
    refused = " ".join(retire.stderr.split())
    assert "2 of them damaged" in refused and all(key_id in refused for key_id in ids[1:3])
    assert runtime.get_key_provider().versions() == [1, 2]
