"""Durable side effects: the transactional outbox (DESIGN.md, "Side effects are durable").

A service names the effect inside its transaction::

    outbox.add("permits.issue", request_id=request.pk)

and never imports a tasks module. The row commits with the change; after the commit a nudge
hands it to Celery, and the beat sweep hands it again until the task acknowledges it. Handlers
are registered by name in the apps' ``tasks.py`` with ``@outbox.effect("permits.issue")``.

This app sits at the bottom of the app order (above ``audit``): every app may import it, and it
imports none of them.
"""

from __future__ import annotations

from typing import Any

from outbox.registry import effect

__all__ = ["add", "effect"]


def add(name: str, /, *, key: str = "", **payload: Any) -> int:
    """Write one side effect in the current transaction; returns the outbox row's id.

    ``key`` names the subject of the effect (``"request:42"``), so sweepers can ask whether one
    is already pending. ``payload`` must be JSON: ids and strings, never model instances.
    """
    from outbox.services import outbox_add

    return outbox_add(name=name, key=key, payload=payload)
