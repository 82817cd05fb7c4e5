"""An auditor asks for the whole log to be verified now (the daily run, on demand)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

import outbox
from audit.errors import Code
from audit.selectors import can_read_log
from audit.services.record import audit_record
from lifes.errors import NotAllowed


def audit_verify_request(*, actor: Any) -> None:
    """Queue ``audit_verify_task`` (through the outbox, with the request recorded in the log);
    the task records its outcome as ``audit.log_verified`` or ``audit.log_broken``. Only those
    who may read the log may ask."""
    if not can_read_log(actor):
        raise NotAllowed(
            _("Only auditors and staff may verify the log."), code=Code.PERMISSION_DENIED
        )
    with transaction.atomic():
        audit_record(actor=actor, action="audit.verify_requested", payload={})
        outbox.add("audit.verify", key="audit:verify")
