"""Offline verifier for audit-log proofs: standard library only, no part of baomi imported.

An inspector (C6) can copy this one file and check an inclusion proof, a consistency proof or an
evidence bundle without the product, its database or its configuration:

    python proofcheck.py FILE        exit 0 valid, 1 invalid, 2 malformed

The algorithms are RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency). The JSON shapes are
those of the transparency-dev test vectors (hashes in base64). Unknown keys, missing keys, wrong
types and bad base64 are malformed; a well-formed proof that does not hold is invalid. Checkpoint
signatures need Ed25519, which the standard library lacks: this module only checks that an
attached checkpoint names the same size and root; `baomi audit verify-proof --key` adds the
signature check.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import sys
from typing import Any

INCLUSION_KEYS = frozenset({"leafIdx", "treeSize", "root", "leafHash", "proof"})
CONSISTENCY_KEYS = frozenset({"size1", "size2", "root1", "root2", "proof"})
BUNDLE_KEYS = frozenset({"bundle", "checkpoint", "inclusions", "consistency"})
BUNDLE_FORMAT = "baomi-evidence/v1"
# "desc" and "wantErr" annotate the transparency-dev vectors; they are read by nobody here.
_ANNOTATIONS = frozenset({"desc", "wantErr"})
_INCLUSION_OPTIONAL = _ANNOTATIONS | {"checkpoint", "leaf"}
_CONSISTENCY_OPTIONAL = _ANNOTATIONS | {"checkpoint1", "checkpoint2"}

VALID, INVALID, MALFORMED = 0, 1, 2
HASH_SIZE = 32


class Malformed(ValueError):
    """The input is not a proof of any known shape."""


class Invalid(ValueError):
    """The input is a well-formed proof that does not hold."""


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def leaf_hash(data: bytes) -> bytes:
    """Hash leaf data as RFC 6962: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def _check_sizes(proof: list[bytes]) -> None:
    for i, p in enumerate(proof):
        if len(p) != HASH_SIZE:
            raise Invalid(f"proof[{i}] is {len(p)} bytes, not {HASH_SIZE}")


def _strip_right(fn: int, sn: int) -> tuple[int, int]:
    while fn and not fn & 1:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes:
    """Return the root an inclusion proof leads to (RFC 9162 §2.1.3.2), or raise Invalid."""
    if not 0 <= index < size:
        raise Invalid(f"leaf index {index} is outside a tree of size {size}")
    if len(leaf) != HASH_SIZE:
        raise Invalid(f"leaf hash is {len(leaf)} bytes, not {HASH_SIZE}")
    _check_sizes(proof)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise Invalid("inclusion proof has too many elements")
        if fn & 1 or fn == sn:
            r = _node(p, r)
            if not fn & 1:
                fn, sn = _strip_right(fn, sn)
        else:
            r = _node(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise Invalid("inclusion proof has too few elements")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> None:
    """Raise Invalid unless `proof` shows leaf hash `leaf` at `index` in the tree `root`."""
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise Invalid("inclusion proof does not lead to the given root")


def verify_consistency(
    size1: int, size2: int, proof: list[bytes], root1: bytes, root2: bytes
) -> None:
    """Raise Invalid unless `proof` shows tree (size1, root1) is a prefix of (size2, root2)."""
    if size1 > size2:
        raise Invalid(f"size1 {size1} is larger than size2 {size2}")
    if size1 == 0:
        # Every tree extends the empty tree: such a "proof" proves nothing and is refused.
        raise Invalid("a consistency proof from the empty tree proves nothing")
    if size1 == size2:
        if proof:
            raise Invalid("equal sizes need an empty proof")
        if root1 != root2:
            raise Invalid("equal sizes with different roots")
        return
    if not proof:
        raise Invalid("consistency proof is empty")
    _check_sizes(proof)
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # size1 is a power of two: its root is a node of the new tree
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise Invalid("consistency proof has too many elements")
        if fn & 1 or fn == sn:
            fr, sr = _node(c, fr), _node(c, sr)
            if not fn & 1:
                fn, sn = _strip_right(fn, sn)
        else:
            sr = _node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise Invalid("consistency proof has too few elements")
    if fr != root1:
        raise Invalid("consistency proof does not lead to root1")
    if sr != root2:
        raise Invalid("consistency proof does not lead to root2")


def _int(obj: dict[str, Any], key: str) -> int:
    value = obj[key]
    if type(value) is not int or value < 0:
        raise Malformed(f"{key} must be a non-negative integer")
    return value


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise Malformed(f"{what} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Malformed(f"{what} is not valid base64") from exc


def _proof(obj: dict[str, Any]) -> list[bytes]:
    value = obj["proof"]
    if value is None:  # the Go vectors write an empty proof as null
        return []
    if not isinstance(value, list):
        raise Malformed("proof must be a list of base64 hashes")
    return [_b64(item, f"proof[{i}]") for i, item in enumerate(value)]


def _shape(obj: Any, required: frozenset[str], optional: frozenset[str]) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise Malformed("expected a JSON object")
    missing, extra = required - obj.keys(), obj.keys() - required - optional
    if missing or extra:
        raise Malformed(f"missing keys {sorted(missing)}, unknown keys {sorted(extra)}")
    return obj


def parse_checkpoint_body(text: str) -> tuple[str, int, bytes]:
    """Return (origin, size, root) from a C2SP tlog-checkpoint note, or raise Malformed."""
    body, sep, _signatures = text.partition("\n\n")
    lines = body.split("\n")
    if not sep or len(lines) < 3 or not lines[0]:
        raise Malformed("checkpoint is not a signed note with origin, size and root")
    size_text = lines[1]
    if not size_text.isascii() or not size_text.isdigit() or size_text != str(int(size_text)):
        raise Malformed("checkpoint size is not a canonical decimal number")
    root = _b64(lines[2], "checkpoint root")
    return lines[0], int(size_text), root


def _bind(checkpoint: Any, size: int, root: bytes) -> None:
    if not isinstance(checkpoint, str):
        raise Malformed("checkpoint must be the signed note text")
    _origin, cp_size, cp_root = parse_checkpoint_body(checkpoint)
    if (cp_size, cp_root) != (size, root):
        raise Invalid("the attached checkpoint names another tree size or root")


def check_inclusion(obj: Any) -> None:
    """Check an inclusion-proof object; raise Malformed or Invalid."""
    obj = _shape(obj, INCLUSION_KEYS, _INCLUSION_OPTIONAL)
    index, size = _int(obj, "leafIdx"), _int(obj, "treeSize")
    leaf, root = _b64(obj["leafHash"], "leafHash"), _b64(obj["root"], "root")
    proof = _proof(obj)
    if "leaf" in obj:
        if not isinstance(obj["leaf"], str):
            raise Malformed("leaf must be the event's canonical encoding as a string")
        if leaf_hash(obj["leaf"].encode("utf-8")) != leaf:
            raise Invalid("the event does not hash to leafHash")
    verify_inclusion(index, size, leaf, proof, root)
    if "checkpoint" in obj:
        _bind(obj["checkpoint"], size, root)


def check_consistency(obj: Any) -> None:
    """Check a consistency-proof object; raise Malformed or Invalid."""
    obj = _shape(obj, CONSISTENCY_KEYS, _CONSISTENCY_OPTIONAL)
    size1, size2 = _int(obj, "size1"), _int(obj, "size2")
    root1, root2 = _b64(obj["root1"], "root1"), _b64(obj["root2"], "root2")
    verify_consistency(size1, size2, _proof(obj), root1, root2)
    if "checkpoint1" in obj:
        _bind(obj["checkpoint1"], size1, root1)
    if "checkpoint2" in obj:
        _bind(obj["checkpoint2"], size2, root2)


def check_bundle(obj: Any) -> None:
    """Check an evidence bundle: every proof holds and refers to the bundle's checkpoint."""
    obj = _shape(obj, BUNDLE_KEYS, frozenset())
    if obj["bundle"] != BUNDLE_FORMAT:
        raise Malformed(f"unknown bundle format {obj['bundle']!r}")
    if not isinstance(obj["inclusions"], list) or not isinstance(obj["consistency"], list):
        raise Malformed("inclusions and consistency must be lists")
    _origin, size, root = parse_checkpoint_body(_str(obj["checkpoint"]))
    for item in obj["inclusions"]:
        check_inclusion(item)
        if (item["treeSize"], _b64(item["root"], "root")) != (size, root):
            raise Invalid("an inclusion proof refers to another tree than the bundle's checkpoint")
    for item in obj["consistency"]:
        check_consistency(item)
        if (item["size2"], _b64(item["root2"], "root2")) != (size, root):
            raise Invalid("a consistency proof does not end at the bundle's checkpoint")


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise Malformed("checkpoint must be the signed note text")
    return value


def check(obj: Any) -> str:
    """Check any supported document, told apart by its keys; return its kind."""
    if isinstance(obj, dict) and "bundle" in obj:
        check_bundle(obj)
        return "bundle"
    if isinstance(obj, dict) and "leafIdx" in obj:
        check_inclusion(obj)
        return "inclusion"
    if isinstance(obj, dict) and "size1" in obj:
        check_consistency(obj)
        return "consistency"
    raise Malformed("neither an inclusion proof, a consistency proof nor an evidence bundle")


def check_text(text: str | bytes) -> tuple[int, str]:
    """Return (exit code, message) for a JSON document."""
    try:
        kind = check(json.loads(text))
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        return MALFORMED, f"malformed: not JSON ({exc})"
    except Malformed as exc:
        return MALFORMED, f"malformed: {exc}"
    except Invalid as exc:
        return INVALID, f"invalid: {exc}"
    return VALID, f"valid {kind}"


def main(argv: list[str] | None = None) -> int:
    """Check the file named on the command line; print the verdict; return the exit code."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: proofcheck.py FILE", file=sys.stderr)
        return MALFORMED
    try:
        with open(args[0], "rb") as f:
            text = f.read()
    except OSError as exc:
        print(f"malformed: cannot read {args[0]}: {exc}", file=sys.stderr)
        return MALFORMED
    code, message = check_text(text)
    print(message, file=sys.stdout if code == VALID else sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
