"""What an operation answers: an :data:`Outcome`, or an error the HTTP layer turns into one."""

from __future__ import annotations

from typing import Any

# (HTTP status, JSON body): every engine operation and route handler answers one.
Outcome = tuple[int, dict[str, Any]]


class EngineError(Exception):
    """A protocol-level rejection: HTTP status plus the JSON body to send."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status = status
        self.body = body
        super().__init__(f"{status}: {body.get('reason')}")


class ValidationFailed(EngineError):
    """A 422 ``validation_failed`` with dot-path field errors (control-plane §1.6)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        messages = [m for msgs in errors.values() for m in msgs]
        first = messages[0] if messages else "The given data was invalid."
        if len(messages) > 1:
            extra = len(messages) - 1
            first += f" (and {extra} more error{'s' if extra > 1 else ''})"
        super().__init__(
            422,
            {
                "message": first,
                "reason": "validation_failed",
                "errors": errors,
                "validation_errors": errors,
            },
        )


def not_found(reason: str, message: str, **extra: Any) -> EngineError:
    return EngineError(404, {"message": message, "reason": reason, **extra})
