"""The log's hashing and proofs against published RFC 6962 / RFC 9162 test vectors, and the
proof API checked by a verifier written here from the RFC text (not the production code).

Vectors: transparency-dev/merkle (Go, the library Trillian and Sigstore use), commit
417fb0c314750d94e53942e9f92e79b6d35915db: ``testonly/constants.go`` (LeafInputs, NodeHashes,
RootHashes) and ``cmd/proofgen/main.go`` (inclusionProofs, consistencyProofs; its leaf indexes
are 1-based there, 0-based here). The same vectors are in google/certificate-transparency's
merkle_tree_test.cc.
"""

from __future__ import annotations

import base64
import hashlib
import random

import pytest
from django.db import transaction

from audit import merkle
from audit.services import audit_record, audit_sequence

LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [  # RootHashes()[1:], the tree of the first n leaves
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
NODES = [  # NodeHashes(): level, then index
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]
INCLUSION = [  # (leaf index, tree size, proof)
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CONSISTENCY = [  # (first, second, proof)
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]


# --- an independent reading of RFC 9162, section 2.1 ------------------------------------------


def rfc_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def rfc_mth(leaves: list[bytes]) -> bytes:
    """2.1.1: MTH({}) = SHA-256(); MTH({d0}) = SHA-256(0x00 || d0); otherwise split at the
    largest power of two smaller than n."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return rfc_leaf(leaves[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + rfc_mth(leaves[:k]) + rfc_mth(leaves[k:])).digest()


def rfc_verify_inclusion(
    leaf_index: int, tree_size: int, leaf_hash: bytes, path: list[bytes], root: bytes
) -> bool:
    """2.1.3.2, step by step."""
    if leaf_index >= tree_size:
        return False
    fn, sn, r = leaf_index, tree_size - 1, leaf_hash
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def rfc_verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: list[bytes]
) -> bool:
    """2.1.4.2, step by step."""
    if first == second:
        return not proof and first_root == second_root
    if not proof or first > second:
        return False
    if first & (first - 1) == 0:  # a power of two: prepend first_hash
        proof = [first_root, *proof]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = hashlib.sha256(b"\x01" + c + fr).digest()
            sr = hashlib.sha256(b"\x01" + c + sr).digest()
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hashlib.sha256(b"\x01" + sr + c).digest()
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


# --- the vectors ------------------------------------------------------------------------------


def _stored_tree(leaves: list[bytes]) -> dict[merkle.Node, bytes]:
    appender, closed = merkle.CompactRange(), []
    for data in leaves:
        appender.append(merkle.leaf_hash(data), closed)
    return {(level, index): digest for level, index, digest in closed}


def test_hashes_match_the_rfc6962_examples():
    assert merkle.leaf_hash(b"").hex() == NODES[0][0]
    assert merkle.leaf_hash(b"L123456").hex() == (
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    )
    assert merkle.node_hash(b"N123", b"N456").hex() == (
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )
    assert merkle.CompactRange().root().hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_root_at_every_size_and_every_stored_node_match_the_vectors():
    appender, closed = merkle.CompactRange(), []
    for size, data in enumerate(LEAVES, start=1):
        appender.append(merkle.leaf_hash(data), closed)
        assert appender.root().hex() == ROOTS[size - 1]
    assert {(level, index): digest.hex() for level, index, digest in closed} == {
        (level, index): digest
        for level, row in enumerate(NODES)
        for index, digest in enumerate(row)
    }
    # every complete subtree is reported when it closes, in order
    assert [(level, index) for level, index, _ in closed][:4] == [(0, 0), (0, 1), (1, 0), (0, 2)]


@pytest.mark.parametrize(("leaf_index", "tree_size", "expected"), INCLUSION)
def test_inclusion_proofs_match_the_vectors(leaf_index, tree_size, expected):
    stored = _stored_tree(LEAVES[:tree_size])
    plan = merkle.inclusion_plan(leaf_index, tree_size)
    assert [merkle.evaluate(expr, stored.__getitem__).hex() for expr in plan] == expected
    assert rfc_verify_inclusion(
        leaf_index,
        tree_size,
        rfc_leaf(LEAVES[leaf_index]),
        [bytes.fromhex(h) for h in expected],
        bytes.fromhex(ROOTS[tree_size - 1]),
    )


@pytest.mark.parametrize(("first", "second", "expected"), CONSISTENCY)
def test_consistency_proofs_match_the_vectors(first, second, expected):
    stored = _stored_tree(LEAVES[:second])
    plan = merkle.consistency_plan(first, second)
    assert [merkle.evaluate(expr, stored.__getitem__).hex() for expr in plan] == expected
    assert rfc_verify_consistency(
        first,
        second,
        bytes.fromhex(ROOTS[first - 1]),
        bytes.fromhex(ROOTS[second - 1]),
        [bytes.fromhex(h) for h in expected],
    )


def test_the_test_verifier_refuses_what_it_should():
    """A verifier that accepts everything would make the API checks below worthless."""
    path = [bytes.fromhex(h) for h in INCLUSION[1][2]]
    root, leaf = bytes.fromhex(ROOTS[7]), rfc_leaf(LEAVES[0])
    assert rfc_verify_inclusion(0, 8, leaf, path, root)
    assert not rfc_verify_inclusion(1, 8, leaf, path, root)
    assert not rfc_verify_inclusion(0, 16, leaf, path, root)
    assert not rfc_verify_inclusion(0, 4, leaf, path, root)
    assert not rfc_verify_inclusion(0, 8, leaf, path[:-1], root)
    assert not rfc_verify_inclusion(0, 8, leaf, [*path, root], root)
    proof = [bytes.fromhex(h) for h in CONSISTENCY[2][2]]
    first, second = bytes.fromhex(ROOTS[5]), bytes.fromhex(ROOTS[7])
    assert rfc_verify_consistency(6, 8, first, second, proof)
    assert not rfc_verify_consistency(6, 8, second, first, proof)
    assert not rfc_verify_consistency(5, 8, first, second, proof)
    assert not rfc_verify_consistency(6, 8, first, second, proof[::-1])


# --- the API, checked with the verifier above --------------------------------------------------


def _append(count: int) -> None:
    for i in range(count):
        with transaction.atomic():
            audit_record(actor=None, action="test.event", payload={"i": i, "text": "é€"})


def _leaves(client, size: int) -> list[bytes]:
    return [
        base64.b64decode(
            client.get(f"/api/v1/audit/events/{i}/proof?tree_size={size}").json()["leaf_data"]
        )
        for i in range(size)
    ]


#: Sizes up to which the API itself is asked for every proof; beyond, the selectors it serves
#: are (the API adds only its serializers). Every tree up to 32 leaves is checked whole, and of
#: the larger ones those with the shapes 32 does not have (33: a lone leaf past a full subtree
#: of 32; 47 and 63: ragged right edges; 64: full). The 4,160 proofs of every size to 64 took
#: 20–30 s of the suite; these are a third of them.
API_EVERY_SIZE = 12
SIZES = [*range(1, 33), 33, 47, 63, 64]


@pytest.mark.django_db
def test_api_proofs_verify_for_every_size_up_to_32_and_the_larger_shapes(client, people):
    from audit.selectors import consistency_proof, inclusion_proof

    # given 64 events, and an auditor (who may read the leaf data)
    _append(64)
    client.force_login(people["auditor"])
    leaves = _leaves(client, 64)
    roots = [rfc_mth(leaves[:size]) for size in range(65)]

    def inclusion(index: int, size: int) -> dict:
        if size <= API_EVERY_SIZE or size == 64:
            return client.get(f"/api/v1/audit/events/{index}/proof?tree_size={size}").json()
        return inclusion_proof(leaf_index=index, tree_size=size, user=people["auditor"])

    def consistency(first: int, second: int) -> dict:
        if second <= API_EVERY_SIZE or second == 64:
            return client.get(f"/api/v1/audit/consistency?first={first}&second={second}").json()
        return consistency_proof(first=first, second=second)

    # then every inclusion proof at each size verifies against the root the RFC gives
    for size in SIZES:
        for index in range(size):
            body = inclusion(index, size)
            assert (body["leaf_index"], body["tree_size"]) == (index, size)
            assert body["leaf_hash"] == rfc_leaf(leaves[index]).hex()
            path = [bytes.fromhex(h) for h in body["audit_path"]]
            assert rfc_verify_inclusion(index, size, rfc_leaf(leaves[index]), path, roots[size])
    # and every consistency proof from a smaller tree to one of those sizes verifies
    for second in SIZES:
        for first in range(1, second + 1):
            body = consistency(first, second)
            assert (body["first"], body["second"]) == (first, second)
            proof = [bytes.fromhex(h) for h in body["proof"]]
            assert rfc_verify_consistency(first, second, roots[first], roots[second], proof)
    # and the signed head carries the RFC root
    head = audit_sequence()
    assert head.tree_size == 64
    assert head.root_hash == roots[64].hex()


@pytest.mark.django_db
def test_api_proofs_verify_at_random_larger_sizes(client, people):
    _append(700)
    client.force_login(people["auditor"])
    leaves = _leaves(client, 700)
    rng = random.Random(9162)
    for _ in range(60):
        size = rng.randint(65, 700)
        index = rng.randrange(size)
        root = rfc_mth(leaves[:size])
        body = client.get(f"/api/v1/audit/events/{index}/proof?tree_size={size}").json()
        path = [bytes.fromhex(h) for h in body["audit_path"]]
        assert rfc_verify_inclusion(index, size, rfc_leaf(leaves[index]), path, root)
        first = rng.randint(1, size)
        body = client.get(f"/api/v1/audit/consistency?first={first}&second={size}").json()
        proof = [bytes.fromhex(h) for h in body["proof"]]
        assert rfc_verify_consistency(first, size, rfc_mth(leaves[:first]), root, proof)
