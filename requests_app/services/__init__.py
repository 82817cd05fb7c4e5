"""Every write on access requests. Views, API, admin, commands and tasks all call these."""

from requests_app.services.after import appeal_decide, appeal_lodge, request_amend
from requests_app.services.bars import access_bar_lift, access_bar_set
from requests_app.services.boards import (
    board_create,
    board_member_add,
    board_member_remove,
    dataset_boards_set,
)
from requests_app.services.drafting import (
    attachment_add,
    attachment_remove,
    request_create,
    request_update,
    team_member_invite,
    team_member_remove,
    terms_accept,
)
from requests_app.services.ehds import (
    clock_extend,
    clock_reminders_send,
    completeness_accept,
    completeness_return,
    incomplete_lapse_sweep,
    request_lapse,
)
from requests_app.services.form_templates import (
    form_template_create,
    form_template_edit,
    form_template_is_used,
    form_template_new_version,
)
from requests_app.services.invitations import (
    invitation_accept,
    invitation_get,
    team_invitations_send,
)
from requests_app.services.minimisation import minimisation_set
from requests_app.services.review import (
    comment_add,
    conflict_declare,
    dataset_decide,
    request_close,
    round_close,
    stage_reminders_send,
    vote_cast,
)
from requests_app.services.submission import (
    checks_rerun_for_dataset,
    checks_run,
    request_resubmit,
    request_route,
    request_submit,
    request_withdraw,
    requests_redrive,
    requests_redrive_stuck,
)

__all__ = [
    "access_bar_lift",
    "access_bar_set",
    "request_amend",
    "attachment_add",
    "attachment_remove",
    "board_create",
    "board_member_add",
    "board_member_remove",
    "checks_rerun_for_dataset",
    "checks_run",
    "comment_add",
    "conflict_declare",
    "dataset_boards_set",
    "dataset_decide",
    "form_template_create",
    "form_template_edit",
    "form_template_is_used",
    "form_template_new_version",
    "request_close",
    "request_create",
    "request_resubmit",
    "requests_redrive",
    "requests_redrive_stuck",
    "request_route",
    "request_submit",
    "request_update",
    "request_withdraw",
    "round_close",
    "stage_reminders_send",
    "team_member_invite",
    "team_member_remove",
    "terms_accept",
    "vote_cast",
    "clock_extend",
    "clock_reminders_send",
    "completeness_accept",
    "completeness_return",
    "incomplete_lapse_sweep",
    "request_lapse",
    "appeal_decide",
    "appeal_lodge",
    "invitation_accept",
    "invitation_get",
    "minimisation_set",
    "team_invitations_send",
]
