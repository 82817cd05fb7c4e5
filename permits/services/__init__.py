"""Every write on permits. Views, the API, the admin, commands and tasks all call these."""

from permits.services.acceptance import (
    permit_activate_if_accepted,
    permit_sign,
    permits_acceptance_sweep,
)
from permits.services.issue import permit_issue, permit_issue_if_due
from permits.services.lifecycle import (
    permit_resume,
    permit_revoke,
    permit_suspend,
    permits_close_with_request,
    permits_expire_due,
)
from permits.services.nodes import node_key_register, receipt_record
from permits.services.reports import permit_report_file, permit_reports_remind
from permits.services.results import finding_report, result_record, results_reminders_send
from permits.services.revocations import revocation_list_current, revocation_list_publish
from permits.services.run_outputs import run_output_upload
from permits.services.sweep import permits_redrive_missing

__all__ = [
    "node_key_register",
    "permit_issue",
    "permit_issue_if_due",
    "permit_report_file",
    "permit_reports_remind",
    "permit_resume",
    "permit_revoke",
    "permit_suspend",
    "permits_close_with_request",
    "permits_expire_due",
    "permits_redrive_missing",
    "receipt_record",
    "revocation_list_current",
    "revocation_list_publish",
    "finding_report",
    "result_record",
    "results_reminders_send",
    "run_output_upload",
    "permit_activate_if_accepted",
    "permit_sign",
    "permits_acceptance_sweep",
]
