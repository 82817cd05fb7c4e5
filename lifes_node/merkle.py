"""Checking the hub's audit log proofs: RFC 9162 (Certificate Transparency 2.0), section 2.1.

The verification algorithms of 2.1.3.2 (inclusion) and 2.1.4.2 (consistency), written from the
RFC text; pure Python, no dependency. Hashes are raw 32-byte values.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion(
    leaf_index: int, tree_size: int, digest: bytes, path: Sequence[bytes]
) -> bytes | None:
    """The root the path leads to from leaf ``leaf_index`` (hash ``digest``), or ``None`` when
    the path cannot be a proof for that index and size (RFC 9162 2.1.3.2)."""
    if not 0 <= leaf_index < tree_size:
        return None
    fn, sn, root = leaf_index, tree_size - 1, digest
    for sibling in path:
        if len(sibling) != 32 or sn == 0:
            return None
        if fn & 1 or fn == sn:
            root = _node(sibling, root)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            root = _node(root, sibling)
        fn >>= 1
        sn >>= 1
    return root if sn == 0 else None


def verify_inclusion(
    leaf_index: int, tree_size: int, digest: bytes, path: Sequence[bytes], root: bytes
) -> bool:
    return root_from_inclusion(leaf_index, tree_size, digest, path) == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows the tree of ``second`` leaves (``second_root``) extends the tree
    of ``first`` leaves (``first_root``) (RFC 9162 2.1.4.2)."""
    if not 0 < first <= second or any(len(item) != 32 for item in proof):
        return False
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    items = list(proof)
    if first & (first - 1) == 0:
        items.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = items[0]
    for item in items[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _node(item, fr)
            sr = _node(item, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _node(sr, item)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0
