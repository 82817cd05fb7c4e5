"""Permission decisions about people that every app shares."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from accounts.errors import Code
from lifes.errors import NotAllowed


def require_staff(actor: Any, message: str | None = None) -> None:
    """Staff only; ``None`` is the system (seeding, commands) and is allowed."""
    if actor is not None and not actor.is_staff:
        raise NotAllowed(message or _("Only hub staff can do this."), code=Code.PERMISSION_DENIED)
