"""The Merkle tree of RFC 9162 (Certificate Transparency 2.0), section 2.1, for the hub's side:
hashing, appending leaves, and building inclusion and consistency proofs.

Written by hand because the Python libraries for it are either unmaintained or keep the whole
tree in memory; the hub keeps every complete subtree ("full node") in the database instead and
reads the O(log n) of them a proof needs. Verifying proofs is the other side's business: nodes
and witnesses use ``lifes_node.merkle``. This module is pure Python (no Django).

A complete subtree is named by ``(level, index)``: it covers leaves
``[index * 2**level, (index + 1) * 2**level)``. Leaves are level 0.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

EMPTY_ROOT = hashlib.sha256(b"").digest()

Node = tuple[int, int]  # (level, index) of a complete subtree


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 2.1.1: MTH({d(0)}) = SHA-256(0x00 || d(0))."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 2.1.1: SHA-256(0x01 || MTH(left) || MTH(right))."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(size: int) -> int:
    """The largest power of two smaller than ``size`` (``size`` > 1): the RFC's ``k``."""
    return 1 << ((size - 1).bit_length() - 1)


def _is_complete(start: int, size: int) -> bool:
    return size & (size - 1) == 0 and start % size == 0


def _node_of(start: int, size: int) -> Node:
    level = size.bit_length() - 1
    return level, start >> level


# A subtree hash is described as a small expression over stored complete nodes, so a proof can
# name every node it needs first and fetch them in one query.
Expr = Node | tuple["Expr", "Expr"]


def subtree(start: int, size: int) -> Expr:
    """MTH(D[start:start+size]) as an expression over complete nodes (RFC 9162 2.1.1)."""
    if _is_complete(start, size):
        return _node_of(start, size)
    k = split_point(size)
    return (subtree(start, k), subtree(start + k, size - k))


def inclusion_plan(index: int, size: int) -> list[Expr]:
    """PATH(m, D[n]) of RFC 9162 2.1.3.1, leaf-side first, as subtree expressions."""
    if not 0 <= index < size:
        raise ValueError("leaf index out of range")
    path: list[Expr] = []
    start = 0
    while size > 1:
        k = split_point(size)
        if index < k:
            path.append(subtree(start + k, size - k))
            size = k
        else:
            path.append(subtree(start, k))
            start, index, size = start + k, index - k, size - k
    path.reverse()
    return path


def consistency_plan(first: int, second: int) -> list[Expr]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 9162 2.1.4.1, as subtree expressions."""
    if not 0 < first <= second:
        raise ValueError("need 0 < first <= second")
    proof: list[Expr] = []
    start, m, n, whole = 0, first, second, True
    while m != n:
        k = split_point(n)
        if m <= k:
            proof.append(subtree(start + k, n - k))
            n = k
        else:
            proof.append(subtree(start, k))
            start, m, n, whole = start + k, m - k, n - k, False
    if not whole:
        proof.append(subtree(start, m))
    proof.reverse()
    return proof


def nodes_of(exprs: Iterable[Expr]) -> set[Node]:
    """Every stored node the expressions read."""
    found: set[Node] = set()
    stack = list(exprs)
    while stack:
        expr = stack.pop()
        if isinstance(expr[0], int):
            found.add(expr)  # type: ignore[arg-type]
        else:
            stack.extend(expr)  # type: ignore[arg-type]
    return found


def evaluate(expr: Expr, lookup: Callable[[Node], bytes]) -> bytes:
    if isinstance(expr[0], int):
        return lookup(expr)  # type: ignore[arg-type]
    left, right = expr  # type: ignore[misc]
    return node_hash(evaluate(left, lookup), evaluate(right, lookup))


def frontier(size: int) -> list[Node]:
    """The complete subtrees a tree of ``size`` leaves decomposes into, left to right: what an
    appender must know to go on (a "compact range")."""
    nodes, start = [], 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            nodes.append((level, start >> level))
            start += 1 << level
    return nodes


@dataclass
class CompactRange:
    """Appends leaves to a tree known only by its frontier; reports each complete subtree that
    an append closes, in the order it closes (which is the order the hub stores them)."""

    size: int = 0
    stack: list[tuple[int, bytes]] = field(default_factory=list)  # (level, hash), left to right

    @classmethod
    def from_frontier(cls, size: int, hashes: list[bytes]) -> CompactRange:
        levels = [level for level, _ in frontier(size)]
        if len(levels) != len(hashes):
            raise ValueError("frontier does not match the size")
        return cls(size, list(zip(levels, hashes, strict=True)))

    def append(self, digest: bytes, closed: list[tuple[int, int, bytes]] | None = None) -> None:
        """Add one leaf hash; ``closed`` receives ``(level, index, hash)`` for the leaf and for
        every complete subtree it closes."""
        index = self.size
        stack = self.stack
        level = 0
        if closed is not None:
            closed.append((0, index, digest))
        while stack and stack[-1][0] == level:
            digest = node_hash(stack.pop()[1], digest)
            level += 1
            if closed is not None:
                closed.append((level, index >> level, digest))
        stack.append((level, digest))
        self.size = index + 1

    def root(self) -> bytes:
        if not self.stack:
            return EMPTY_ROOT
        digest = self.stack[-1][1]
        for _level, left in reversed(self.stack[:-1]):
            digest = node_hash(left, digest)
        return digest
