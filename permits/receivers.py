"""Signal receivers: they queue a task and do nothing else (signals carry no business logic)."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def on_request_approved(sender: Any, request_id: int, **kwargs: Any) -> None:
    """Every owner decided and at least one dataset was granted: issue the permit.

    Runs after the approval committed. Nothing raised here may reach the owner who approved
    (their decision is stored either way), so a failure to queue is logged; the request stays
    ``approved`` and its page offers the owner to issue the permit.
    """
    from permits.tasks import issue_permit_task

    try:
        issue_permit_task.delay(request_id)
    except Exception:  # noqa: BLE001 - broker down, or an eager run failed: logged, not raised
        logger.exception("could not issue the permit of request %s after approval", request_id)


def on_request_closed(sender: Any, request_id: int, **kwargs: Any) -> None:
    """A closed request's permit ends too (see ``permits_close_with_request``)."""
    from permits.tasks import permits_close_task

    try:
        permits_close_task.delay(request_id)
    except Exception:  # noqa: BLE001 - logged; the expiry beat still ends it at its exp
        logger.exception("could not end the permit of closed request %s", request_id)
