"""Appending to, sequencing and verifying the audit log (a Merkle tree, RFC 9162).

Every service in every app calls ``audit_record`` inside its own transaction. The sequencer
(``audit_sequence``) places committed events in the tree and signs tree heads with a signer
given by dotted path (``AUDIT_TREE_HEAD_SIGNER``, the hub key), so this app never imports the
one that owns the keys. ``log_verify`` recomputes everything, streaming.
"""

from audit.services.record import audit_record
from audit.services.sequence import audit_sequence, tree_head_sign
from audit.services.verify import LogBroken, LogReport, log_verify
from audit.services.verify_now import audit_verify_request

# The name the other apps' code and tests know the whole-log check by.
chain_verify = log_verify

__all__ = [
    "LogBroken",
    "LogReport",
    "audit_record",
    "audit_sequence",
    "audit_verify_request",
    "chain_verify",
    "log_verify",
    "tree_head_sign",
]
