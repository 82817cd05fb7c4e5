"""LIFES node: the enforcer that runs at a data station, next to the data.

The hub decides who may visit which data; this package makes sure that decision is what actually
happens at the node: it verifies the hub's signed permit offline, runs only the permitted
algorithm on the current consenting cohort, checks what leaves, and signs a receipt. It imports no
Django so that a node can install it alone (stdlib + cryptography + PyJWT).
"""

from lifes_node.errors import NodeError, VerificationError
from lifes_node.verify import RevocationList, verify_permit, verify_revocation_list
from lifes_node.version import __version__

__all__ = [
    "NodeError",
    "RevocationList",
    "VerificationError",
    "__version__",
    "verify_permit",
    "verify_revocation_list",
]
