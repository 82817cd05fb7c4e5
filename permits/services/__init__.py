"""Every write on permits. Views, the API, the admin, commands and tasks all call these."""

from permits.services.issue import permit_issue, permit_issue_if_due
from permits.services.lifecycle import (
    permit_resume,
    permit_revoke,
    permit_suspend,
    permits_close_with_request,
    permits_expire_due,
)
from permits.services.nodes import node_key_register, receipt_record
from permits.services.revocations import revocation_list_current, revocation_list_publish

__all__ = [
    "node_key_register",
    "permit_issue",
    "permit_issue_if_due",
    "permit_resume",
    "permit_revoke",
    "permit_suspend",
    "permits_close_with_request",
    "permits_expire_due",
    "receipt_record",
    "revocation_list_current",
    "revocation_list_publish",
]
