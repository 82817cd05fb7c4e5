"""Effect name → handler. Handlers live in the apps' ``tasks.py`` (they call services)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.utils.module_loading import autodiscover_modules

_HANDLERS: dict[str, Callable[..., Any]] = {}


def effect(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated callable (a plain function or a Celery task) as the handler of
    ``name``. One handler per name: a second registration is a programming error."""

    def register(handler: Callable[..., Any]) -> Callable[..., Any]:
        existing = _HANDLERS.get(name)
        if existing is not None and existing is not handler:
            raise RuntimeError(f"outbox effect {name!r} has two handlers")
        _HANDLERS[name] = handler
        return handler

    return register


def handler_for(name: str) -> Callable[..., Any]:
    """The handler of ``name``; imports every app's ``tasks`` module the first time a name is
    missing (a web process in eager mode has not imported them; a worker has)."""
    if name not in _HANDLERS:
        autodiscover_modules("tasks")
    try:
        return _HANDLERS[name]
    except KeyError:
        raise LookupError(f"no handler for outbox effect {name!r}") from None


@contextmanager
def replaced(name: str, handler: Callable[..., Any]) -> Iterator[None]:
    """Swap the handler of ``name`` for a while (tests that run an effect by hand)."""
    original = handler_for(name)
    _HANDLERS[name] = handler
    try:
        yield
    finally:
        _HANDLERS[name] = original
