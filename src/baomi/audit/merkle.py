"""RFC 6962 / RFC 9162 Merkle tree hashing and proof generation over stored complete subtrees.

A node is named by (level, index): the perfect subtree of 2**level leaves starting at leaf
index << level. Such a node never changes once its last leaf exists, so it can be stored once and
read back (Trillian's subtree storage). Every range the RFC recursion visits starts at a multiple
of a power of two at least as large as the range, so its hash is a right fold of at most log2(n)
stored nodes: proofs read O(log n) nodes instead of rehashing the log (C1.3, C6: inspections ask
for proofs of old events in a large log).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from hashlib import sha256
from typing import Protocol

NodeId = tuple[int, int]
"""(level, index) of a perfect subtree covering leaves [index << level, (index + 1) << level)."""

EMPTY_ROOT = sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """Hash leaf data as RFC 6962: SHA-256(0x00 || data)."""
    return sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two children as RFC 6962: SHA-256(0x01 || left || right)."""
    return sha256(b"\x01" + left + right).digest()


class NodeReader(Protocol):
    """Anything that returns the hashes of complete nodes, in the order asked."""

    def read_nodes(self, ids: Sequence[NodeId]) -> list[bytes]: ...


def range_nodes(begin: int, end: int) -> list[NodeId]:
    """Return the perfect subtrees covering [begin, end), largest first."""
    nodes: list[NodeId] = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        if begin & ((1 << level) - 1):
            raise ValueError(f"range [{begin}, {end}) is not aligned as in RFC 6962")
        nodes.append((level, begin >> level))
        begin += 1 << level
    return nodes


def _split(size: int) -> int:
    """Return the largest power of two strictly smaller than size (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def inclusion_plan(index: int, size: int) -> list[list[NodeId]]:
    """Return, per proof element of PATH(index, D[size]), the nodes that fold into it."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    plan: list[list[NodeId]] = []
    begin, end = 0, size
    while end - begin > 1:
        k = _split(end - begin)
        if index < begin + k:
            plan.append(range_nodes(begin + k, end))
            end = begin + k
        else:
            plan.append(range_nodes(begin, begin + k))
            begin += k
    plan.reverse()  # RFC 6962 lists the deepest sibling first
    return plan


def consistency_plan(size1: int, size2: int) -> list[list[NodeId]]:
    """Return, per proof element of PROOF(size1, D[size2]), the nodes that fold into it."""
    if not 0 < size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2}")
    plan: list[list[NodeId]] = []
    begin, end, whole_old_tree = 0, size2, True
    while size1 != end:
        k = _split(end - begin)
        if size1 - begin <= k:
            plan.append(range_nodes(begin + k, end))
            end = begin + k
        else:
            plan.append(range_nodes(begin, begin + k))
            begin += k
            whole_old_tree = False
    if not whole_old_tree:
        plan.append(range_nodes(begin, end))
    plan.reverse()
    return plan


def fold(hashes: Sequence[bytes]) -> bytes:
    """Combine perfect-subtree hashes (largest first) into the hash of their whole range."""
    acc = hashes[-1]
    for left in reversed(hashes[:-1]):
        acc = node_hash(left, acc)
    return acc


def _resolve(reader: NodeReader, plan: list[list[NodeId]]) -> list[bytes]:
    wanted = sorted({node for element in plan for node in element})
    found = dict(zip(wanted, reader.read_nodes(wanted), strict=True))
    return [fold([found[node] for node in element]) for element in plan]


def root(reader: NodeReader, size: int) -> bytes:
    """Return the Merkle tree hash of the first `size` leaves."""
    if size == 0:
        return EMPTY_ROOT
    return _resolve(reader, [range_nodes(0, size)])[0]


def inclusion_proof(reader: NodeReader, index: int, size: int) -> list[bytes]:
    """Return the RFC 6962 audit path of leaf `index` in the tree of `size` leaves."""
    return _resolve(reader, inclusion_plan(index, size))


def consistency_proof(reader: NodeReader, size1: int, size2: int) -> list[bytes]:
    """Return the RFC 6962 consistency proof between tree sizes size1 and size2."""
    return _resolve(reader, consistency_plan(size1, size2))


class CompactRange:
    """The right edge of a growing tree: what a sealer or verifier needs to extend it.

    `append` returns the complete nodes (level >= 1) each new leaf finishes, so a sealer can store
    them for later proofs without keeping the whole tree in memory.
    """

    __slots__ = ("_stack", "size")

    def __init__(self, size: int = 0, edge: Iterable[bytes] = ()) -> None:
        self.size = size
        self._stack = list(edge)  # hashes of range_nodes(0, size), largest first
        if len(self._stack) != size.bit_count():
            raise ValueError("edge does not match the tree size")

    def append(self, leaf: bytes) -> list[tuple[NodeId, bytes]]:
        """Add one leaf hash; return the new complete nodes above level 0."""
        index = self.size
        self.size += 1
        made: list[tuple[NodeId, bytes]] = []
        acc, level = leaf, 0
        while index & 1:
            acc = node_hash(self._stack.pop(), acc)
            index >>= 1
            level += 1
            made.append(((level, index), acc))
        self._stack.append(acc)
        return made

    def extend(self, leaves: Iterable[bytes]) -> None:
        """Add many leaf hashes, discarding the new nodes (verification needs only roots)."""
        stack, size, node = self._stack, self.size, node_hash
        for acc in leaves:
            index = size
            size += 1
            while index & 1:
                acc = node(stack.pop(), acc)
                index >>= 1
            stack.append(acc)
        self.size = size

    def root(self) -> bytes:
        """Return the Merkle tree hash of the leaves added so far."""
        return fold(self._stack) if self._stack else EMPTY_ROOT


class MemoryTree:
    """A whole tree kept in memory, level by level: for tests, bundles and small logs."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self.levels: list[list[bytes]] = [[]]
        self._edge = CompactRange()
        for leaf in leaves:
            self.append(leaf)

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash and the complete nodes it finishes."""
        self.levels[0].append(leaf)
        for (level, _index), digest in self._edge.append(leaf):
            if level == len(self.levels):
                self.levels.append([])
            self.levels[level].append(digest)

    def read_nodes(self, ids: Sequence[NodeId]) -> list[bytes]:
        return [self.levels[level][index] for level, index in ids]
