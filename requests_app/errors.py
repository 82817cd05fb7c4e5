"""Every ``code`` an error of the access-request app carries, in one enum (the API's ``code``).

A ``StrEnum``: each member is the string clients read, so responses and comparisons with the
plain string keep working.
"""

from enum import StrEnum


class Code(StrEnum):
    ALREADY_DECIDED = "already_decided"
    ALREADY_DECLARED = "already_declared"
    ALREADY_LIFTED = "already_lifted"
    ALREADY_VOTED = "already_voted"
    ATTACHMENT_TOO_LARGE = "attachment_too_large"
    ATTACHMENT_TYPE = "attachment_type"
    DECLARATION_REQUIRED = "declaration_required"
    INCOMPLETE = "incomplete"
    INVALID_STATE = "invalid_state"
    NO_ORGANISATION = "no_organisation"
    OWN_BAR = "own_bar"
    OWN_REQUEST = "own_request"
    QUORUM_NOT_MET = "quorum_not_met"
    RECUSED = "recused"
    UNKNOWN_ACTION = "unknown_action"
    # The EHDS clocks (services/ehds.py)
    ALREADY_EXTENDED = "already_extended"
    CHECKS_PENDING = "checks_pending"
    NO_CLOCK = "no_clock"
    WINDOW_OPEN = "window_open"
    # The EHDS after the decision (services/after.py)
    RENEWAL_LIMIT = "renewal_limit"
    PERIOD_NOT_EXTENDED = "period_not_extended"
    EXTENSION_IS_RENEWAL = "extension_is_renewal"
    NOTHING_CHANGES = "nothing_changes"
    REASON_REQUIRED = "reason_required"
    NO_LIVE_PERMIT = "no_live_permit"
    ALREADY_APPEALED = "already_appealed"
    # EHDS: invitations of team members, data minimisation
    ACCOUNT_EXISTS = "account_exists"
    INVITATION_EXPIRED = "invitation_expired"
    INVITATION_INVALID = "invitation_invalid"
    INVITATION_NOT_YOURS = "invitation_not_yours"
    INVITATION_USED = "invitation_used"
    PSEUDONYMISATION_UNJUSTIFIED = "pseudonymisation_unjustified"
    UNKNOWN_VARIABLES = "unknown_variables"
