"""Every ``code`` an error of the permits app carries, in one enum (the API's ``code``).

A ``StrEnum``: each member is the string clients read, so responses and comparisons with the
plain string keep working.
"""

from enum import StrEnum


class Code(StrEnum):
    BAD_ALGORITHM = "bad_algorithm"
    BAD_ISSUER = "bad_issuer"
    BAD_SIGNATURE = "bad_signature"
    COHORT_CHANGING = "cohort_changing"
    DATASET_NOT_IN_PERMIT = "dataset_not_in_permit"
    EXPIRED = "expired"
    INVALID_GRANT = "invalid_grant"
    INVALID_RECEIPT = "invalid_receipt"
    INVALID_SCOPE = "invalid_scope"
    INVALID_STATE = "invalid_state"
    INVALID_TOKEN = "invalid_token"  # noqa: S105 - an error code, not a password
    KEY_FROM_ENVIRONMENT = "key_from_environment"
    MALFORMED = "malformed"
    NO_ALGORITHM = "no_algorithm"
    NO_VALIDITY = "no_validity"
    NODE_KEY_ALREADY_SET = "node_key_already_set"
    NODE_KEY_MISSING = "node_key_missing"
    NODE_RETIRED = "node_retired"
    NOT_A_NODE = "not_a_node"
    NOT_FOUND = "not_found"
    NOT_YET_VALID = "not_yet_valid"
    NOTHING_GRANTED = "nothing_granted"
    OWN_PERMIT = "own_permit"
    PERMIT_MISMATCH = "permit_mismatch"
    PERMIT_NOT_ACTIVE = "permit_not_active"
    PERMIT_NOT_ADDRESSED = "permit_not_addressed"
    PERMIT_NOT_FOUND = "permit_not_found"
    PRIVATE_KEY_SENT = "private_key_sent"
    PURPOSE_UNUSABLE = "purpose_unusable"
    REASON_REQUIRED = "reason_required"
    RECEIPT_DUPLICATE = "receipt_duplicate"
    UNKNOWN_ACTION = "unknown_action"
    UNKNOWN_KEY = "unknown_key"
    UNSUPPORTED_GRANT_TYPE = "unsupported_grant_type"
    WRONG_AUDIENCE = "wrong_audience"
    WRONG_TYPE = "wrong_type"
    INVALID_CURSOR = "invalid_cursor"
    INVALID_RESULT = "invalid_result"
    NOT_HOLDER = "not_holder"
    # run results (permits/services/run_outputs.py)
    NOT_YOUR_RECEIPT = "not_your_receipt"
    OUTPUT_DIGEST_MISMATCH = "output_digest_mismatch"
    OUTPUT_DUPLICATE = "output_duplicate"
    OUTPUT_NOT_RELEASED = "output_not_released"
    OUTPUT_TOO_LARGE = "output_too_large"
    OUTPUT_TYPE = "output_type"
    RECEIPT_MISMATCH = "receipt_mismatch"
    # Progress and closeout reports (services/reports.py)
    REPORT_ALREADY_FILED = "report_already_filed"
    REPORT_REQUIRED = "report_required"
