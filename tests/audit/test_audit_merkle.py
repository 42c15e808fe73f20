"""Merkle proofs agree with an independent RFC 6962 reference for every tree size up to 300 (C6).

The reference below is the RFC's recursive definition written out directly, sharing nothing with
baomi.audit.merkle but SHA-256.
"""

from __future__ import annotations

from functools import cache
from hashlib import sha256

import pytest

from baomi.audit import proofcheck
from baomi.audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root,
)

MAX = 300
DATA = [f"leaf {i}".encode() for i in range(MAX)]


@cache
def mth(begin: int, end: int) -> bytes:
    """RFC 6962 §2.1 MTH(D[begin:end])."""
    n = end - begin
    if n == 0:
        return sha256(b"").digest()
    if n == 1:
        return sha256(b"\x00" + DATA[begin]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return sha256(b"\x01" + mth(begin, begin + k) + mth(begin + k, end)).digest()


def ref_path(m: int, begin: int, end: int) -> list[bytes]:
    """RFC 6962 §2.1.1 PATH(m, D[begin:end]), m relative to begin."""
    n = end - begin
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*ref_path(m, begin, begin + k), mth(begin + k, end)]
    return [*ref_path(m - k, begin + k, end), mth(begin, begin + k)]


def ref_subproof(m: int, begin: int, end: int, b: bool) -> list[bytes]:
    """RFC 6962 §2.1.2 SUBPROOF(m, D[begin:end], b)."""
    n = end - begin
    if m == n:
        return [] if b else [mth(begin, end)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*ref_subproof(m, begin, begin + k, b), mth(begin + k, end)]
    return [*ref_subproof(m - k, begin + k, end, False), mth(begin, begin + k)]


@pytest.fixture(scope="module")
def tree() -> MemoryTree:
    return MemoryTree(leaf_hash(d) for d in DATA)


def test_roots_match_reference_for_every_size(tree: MemoryTree) -> None:
    edge = CompactRange()
    assert root(tree, 0) == EMPTY_ROOT == edge.root()
    for n in range(1, MAX + 1):
        edge.append(leaf_hash(DATA[n - 1]))
        assert root(tree, n) == mth(0, n) == edge.root()


def test_inclusion_proofs_match_reference_and_verify(tree: MemoryTree) -> None:
    for n in range(1, MAX + 1):
        for m in range(n):
            proof = inclusion_proof(tree, m, n)
            assert proof == ref_path(m, 0, n)
            proofcheck.verify_inclusion(m, n, leaf_hash(DATA[m]), proof, mth(0, n))


def test_consistency_proofs_match_reference_and_verify(tree: MemoryTree) -> None:
    for n in range(1, MAX + 1):
        for m in range(1, n + 1):
            proof = consistency_proof(tree, m, n)
            assert proof == ref_subproof(m, 0, n, True)
            proofcheck.verify_consistency(m, n, proof, mth(0, m), mth(0, n))


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 64, 127, 300])
def test_tampered_inclusion_proofs_fail(tree: MemoryTree, n: int) -> None:
    for m in range(n):
        proof, leaf, r = inclusion_proof(tree, m, n), leaf_hash(DATA[m]), mth(0, n)
        bad: list[tuple[int, int, list[bytes], bytes]] = [
            (m, n, [*proof, r], r),  # extra element
            (m, n, [r, *proof], r),
            # A wrong size can still fold to the same root (e.g. leaf 0 of 3 and of 4); the
            # signed checkpoint binds the size. A size one level off needs another element.
            (m, n * 2, proof, r),
            (m ^ 1, n, proof, r) if n > 1 else (m + 1, n, proof, r),
            (m, n, proof, mth(0, n - 1)),  # wrong root
        ]
        if proof:
            bad.append((m, n, proof[:-1], r))  # missing element
            bad.append((m, n, [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]], r))
        for idx, size, p, want_root in bad:
            with pytest.raises(proofcheck.Invalid):
                proofcheck.verify_inclusion(idx, size, leaf, p, want_root)


@pytest.mark.parametrize("n", [2, 3, 5, 8, 13, 64, 127, 300])
def test_tampered_consistency_proofs_fail(tree: MemoryTree, n: int) -> None:
    for m in range(1, n):
        proof, r1, r2 = consistency_proof(tree, m, n), mth(0, m), mth(0, n)
        bad: list[tuple[int, int, list[bytes], bytes, bytes]] = [
            (m, n, proof, r2, r1),  # swapped roots
            (m, n, [*proof, r1], r1, r2),
            (m, n, [r1, *proof], r1, r2),
            (m, n, proof[:-1], r1, r2),
            (m, n * 2, proof, r1, r2),
            (m, n, [bytes([proof[-1][0] ^ 1]) + proof[-1][1:], *proof[:-1]], r1, r2),
        ]
        if m > 1:
            bad.append((m - 1, n, proof, r1, r2))
        for s1, s2, p, a, b in bad:
            with pytest.raises(proofcheck.Invalid):
                proofcheck.verify_consistency(s1, s2, p, a, b)


def test_plans_reject_out_of_range(tree: MemoryTree) -> None:
    with pytest.raises(ValueError):
        inclusion_proof(tree, 5, 5)
    with pytest.raises(ValueError):
        consistency_proof(tree, 0, 5)
    with pytest.raises(ValueError):
        consistency_proof(tree, 6, 5)
