"""Domain errors raised by services; the API and the HTML views turn them into answers.

They live here (not in an app) because every app raises them and ``lifes.api`` renders them.
"""

from __future__ import annotations


class DomainError(Exception):
    """A request that is well-formed but not allowed now. Rendered as JSON with a stable code."""

    status_code = 409
    default_code = "conflict"

    def __init__(
        self, message: str, *, code: str | None = None, errors: dict[str, list[str]] | None = None
    ) -> None:
        # Translated messages are rendered now, in the language of the person who acted.
        message = str(message)
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.errors = {
            field: [str(m) for m in messages] for field, messages in (errors or {}).items()
        }


class InvalidInput(DomainError):
    status_code = 400
    default_code = "invalid"


class NotAllowed(DomainError):
    status_code = 403
    default_code = "permission_denied"


class NotFound(DomainError):
    status_code = 404
    default_code = "not_found"


class InvalidTransition(DomainError):
    status_code = 409
    default_code = "invalid_transition"
