"""Reason codes and the exceptions that carry them.

Every refusal names exactly one stable reason code (the contract operators, the hub and tests rely
on) plus a human message. Codes never change meaning; messages may.
"""

from __future__ import annotations

from typing import Any

# Permit and revocation-list verification (CONTRACTS.md, "Permits").
MALFORMED = "malformed"
UNKNOWN_KEY = "unknown_key"
BAD_SIGNATURE = "bad_signature"
BAD_ALGORITHM = "bad_algorithm"
BAD_ISSUER = "bad_issuer"
WRONG_AUDIENCE = "wrong_audience"
NOT_YET_VALID = "not_yet_valid"
EXPIRED = "expired"
REVOKED = "revoked"
STALE_REVOCATIONS = "stale_revocations"
NOT_LOGGED = "not_logged"  # --require-logged: no valid inclusion proof of the permit's issue

VERIFY_REASONS = (
    MALFORMED,
    UNKNOWN_KEY,
    BAD_SIGNATURE,
    BAD_ALGORITHM,
    BAD_ISSUER,
    WRONG_AUDIENCE,
    NOT_YET_VALID,
    EXPIRED,
    REVOKED,
    STALE_REVOCATIONS,
    NOT_LOGGED,
)

# `lifes-node witness`: what the hub's log did that it must never do.
SPLIT_VIEW = "split_view"  # two different roots for the same size
HISTORY_REWRITTEN = "history_rewritten"  # a head that does not extend the last one seen
BAD_TREE_HEAD = "bad_tree_head"  # unsigned, badly signed, or not what the JWS says
HUB_UNREACHABLE = "hub_unreachable"
WITNESS_REASONS = (SPLIT_VIEW, HISTORY_REWRITTEN, BAD_TREE_HEAD, HUB_UNREACHABLE)

# `lifes-node run` adds these.
CONFIG_ERROR = "config_error"
KEYS_UNAVAILABLE = "keys_unavailable"
DATASET_NOT_HELD = "dataset_not_held"
DATASET_UNREADABLE = "dataset_unreadable"
ALGORITHM_MISMATCH = "algorithm_mismatch"
COHORT_UNAVAILABLE = "cohort_unavailable"
COHORT_MISMATCH = "cohort_mismatch"
ALGORITHM_TIMEOUT = "algorithm_timeout"
ALGORITHM_FAILED = "algorithm_failed"
DISCLOSURE_FORMAT = "disclosure_format"
DISCLOSURE_ROW_LEVEL = "disclosure_row_level"
DISCLOSURE_SMALL_CELL = "disclosure_small_cell"
DISCLOSURE_MISMATCH = "disclosure_mismatch"
DISCLOSURE_DOMINANCE = "disclosure_dominance"

RUN_REASONS = (
    CONFIG_ERROR,
    KEYS_UNAVAILABLE,
    DATASET_NOT_HELD,
    DATASET_UNREADABLE,
    ALGORITHM_MISMATCH,
    COHORT_UNAVAILABLE,
    COHORT_MISMATCH,
    ALGORITHM_TIMEOUT,
    ALGORITHM_FAILED,
    DISCLOSURE_FORMAT,
    DISCLOSURE_ROW_LEVEL,
    DISCLOSURE_SMALL_CELL,
    DISCLOSURE_MISMATCH,
    DISCLOSURE_DOMINANCE,
)

ALL_REASONS = VERIFY_REASONS + RUN_REASONS + WITNESS_REASONS


class NodeError(Exception):
    """A refusal with a stable reason code; the message is for humans and may change."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(f"{reason}: {message}" if message else reason)
        self.reason = reason
        self.message = message or reason


class VerificationError(NodeError):
    """A permit or revocation list failed verification.

    ``claims`` is set only when the signature was valid and the issuer was the hub (e.g. an
    expired or revoked permit): those refusals can still be attributed to a real permit and
    reported to the hub in a receipt. It is ``None`` whenever the token cannot be trusted.
    """

    def __init__(
        self, reason: str, message: str = "", *, claims: dict[str, Any] | None = None
    ) -> None:
        super().__init__(reason, message)
        self.claims = claims


class ConfigError(NodeError):
    """The node's own configuration is unusable; nothing runs until the operator fixes it."""

    def __init__(self, message: str) -> None:
        super().__init__(CONFIG_ERROR, message)
