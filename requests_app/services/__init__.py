"""Every write on access requests. Views, API, admin, commands and tasks all call these."""

from requests_app.services.bars import access_bar_lift, access_bar_set
from requests_app.services.boards import (
    board_create,
    board_member_add,
    dataset_boards_set,
)
from requests_app.services.drafting import (
    attachment_add,
    request_create,
    request_update,
    team_member_invite,
    team_member_remove,
    terms_accept,
)
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
    checks_run,
    request_amend,
    request_resubmit,
    request_route,
    request_submit,
    request_withdraw,
)

__all__ = [
    "access_bar_lift",
    "access_bar_set",
    "request_amend",
    "attachment_add",
    "board_create",
    "board_member_add",
    "checks_run",
    "comment_add",
    "conflict_declare",
    "dataset_boards_set",
    "dataset_decide",
    "request_close",
    "request_create",
    "request_resubmit",
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
]
