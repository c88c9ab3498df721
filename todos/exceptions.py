"""Todo domain errors, rendered as SPEC's JSON body by config.errors."""

from __future__ import annotations

from config.exceptions import BadRequest, NotFound


class TodoNotFound(NotFound):
    """No such todo for this user (another user's todo is reported the same way)."""

    def __init__(self, message: str = "Todo not found.") -> None:
        super().__init__(message)


class TodoInvalid(BadRequest):
    """A field of a todo is invalid; the message names the field and the rule."""


class TodoAmbiguous(TodoNotFound):
    """A reference that matches several of the user's todos; `candidates` are they."""

    def __init__(self, message: str, candidates: list) -> None:
        super().__init__(message)
        self.candidates = candidates
