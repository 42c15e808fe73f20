"""The transparency-dev golden vectors: every valid case passes, every wantErr case fails (C6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from baomi.audit import proofcheck

# The vectors travel with the tests (origin and licence in vectors/merkle/README.md). A missing
# folder must fail loudly: an empty parametrize would silently skip every case.
VECTORS = Path(__file__).resolve().parent / "vectors" / "merkle"
FILES = sorted(VECTORS.rglob("*.json"))
if len(FILES) < 190:
    raise FileNotFoundError(f"RFC 6962 golden vectors missing under {VECTORS}")


def test_vectors_are_present() -> None:
    kinds = {f.relative_to(VECTORS).parts[0] for f in FILES}
    assert kinds == {"inclusion", "consistency"}
    assert len(FILES) >= 190


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(VECTORS)))
def test_vector(path: Path) -> None:
    case = json.loads(path.read_text())
    code, message = proofcheck.check_text(path.read_bytes())
    if case["wantErr"]:
        assert code != proofcheck.VALID, message
    else:
        assert code == proofcheck.VALID, message


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("not json", proofcheck.MALFORMED),
        ("[]", proofcheck.MALFORMED),
        ('{"leafIdx": 0}', proofcheck.MALFORMED),
        ('{"leafIdx":0,"treeSize":1,"root":"","leafHash":"","proof":[],"x":1}', 2),
        ('{"leafIdx":"0","treeSize":1,"root":"","leafHash":"","proof":[]}', 2),
        ('{"leafIdx":true,"treeSize":1,"root":"","leafHash":"","proof":[]}', 2),
        ('{"leafIdx":0,"treeSize":1,"root":"!!","leafHash":"","proof":[]}', 2),
        ('{"leafIdx":0,"treeSize":1,"root":"","leafHash":"","proof":[1]}', 2),
        ('{"size1":1,"size2":1,"root1":"","root2":"","proof":{}}', 2),
        ('{"size1":-1,"size2":1,"root1":"","root2":"","proof":[]}', 2),
    ],
)
def test_malformed_documents(text: str, code: int) -> None:
    assert proofcheck.check_text(text)[0] == code


def test_main_exit_codes(tmp_path: Path) -> None:
    happy = VECTORS / "inclusion" / "1" / "happy-path.json"
    bad = VECTORS / "consistency" / "1" / "swapped-roots.json"
    junk = tmp_path / "junk.json"
    junk.write_text("{")
    assert proofcheck.main([str(happy)]) == 0
    assert proofcheck.main([str(bad)]) == 1
    assert proofcheck.main([str(junk)]) == 2
    assert proofcheck.main([str(tmp_path / "missing.json")]) == 2


def test_module_imports_only_the_standard_library() -> None:
    source = Path(proofcheck.__file__).read_text()
    assert "baomi" not in "".join(
        line for line in source.splitlines() if line.startswith(("import ", "from "))
    )
