"""The typed per-request context handed to ChatKit's server and store."""

from __future__ import annotations

from dataclasses import dataclass, field

from accounts.models import User


@dataclass
class RequestContext:
    user: User
    # Set by the agent when a tool changed todos, so a client effect is sent.
    todos_changed: bool = field(default=False)
