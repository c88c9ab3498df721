"""Tool effects per (thread, user message): a rerun of a turn never applies them twice.

A retried turn (`threads.retry_after_item`, an error card's "Try again") runs the
model again on the same user message. Each change a tool makes is recorded with
that message's id, in the same transaction as the change; on a rerun the tool
first looks for a recorded change that matches the call (by any name for the
todo: its title, "#id", or the text the model used) and answers with it instead.
Each recorded change answers one call per run, so "add milk" twice in one
message still adds two.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agents import TResponseInputItem
from django.db import transaction

from chat.converter import note
from chat.models import ToolEffect
from config.db import run_sync
from todos.models import Todo


def normalise(ref: str) -> str:
    """How a title or reference compares: trimmed, quotes dropped, spaces collapsed, casefolded."""
    text = " ".join(str(ref).split())
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text.casefold()


def todo_aliases(todo: Todo, *refs: str) -> list[str]:
    """Every name a rerun may use for this todo."""
    names = [normalise(ref) for ref in refs if ref]
    names += [normalise(todo.title), f"#{todo.pk}", str(todo.pk)]
    return sorted(set(names))


@dataclass
class TurnLedger:
    """The ledger for one run of one user message."""

    thread_id: str
    user_message_id: str
    # A rerun looks for earlier effects; a first run has none and skips the query.
    rerun: bool = False
    used: set[int] = field(default_factory=set)

    def _find(self, tool: str, ref: str, fields: dict[str, Any]) -> dict[str, Any] | None:
        rows = ToolEffect.objects.filter(
            thread_id=self.thread_id, user_message_id=self.user_message_id, tool=tool
        ).exclude(pk__in=self.used)
        wanted = normalise(ref)
        for row in rows:
            if wanted in row.aliases and row.fields == fields:
                self.used.add(row.pk)
                return row.result
        return None

    async def afind(self, tool: str, ref: str, fields: dict[str, Any]) -> dict[str, Any] | None:
        """The recorded result of an equal call made on an earlier run, if any."""
        if not self.rerun:
            return None
        return await run_sync(self._find, tool, ref, _plain(fields))

    def _apply(
        self,
        tool: str,
        ref: str,
        fields: dict[str, Any],
        change: Callable[[], Todo],
        describe: Callable[[Todo], dict[str, Any]],
    ) -> tuple[Todo, dict[str, Any]]:
        with transaction.atomic():
            todo = change()
            result = describe(todo)
            row = ToolEffect.objects.create(
                thread_id=self.thread_id,
                user_message_id=self.user_message_id,
                tool=tool,
                aliases=todo_aliases(todo, ref),
                fields=fields,
                result=result,
            )
        self.used.add(row.pk)
        return todo, result

    async def aapply(
        self,
        tool: str,
        ref: str,
        fields: dict[str, Any],
        change: Callable[[], Todo],
        describe: Callable[[Todo], dict[str, Any]],
    ) -> tuple[Todo, dict[str, Any]]:
        """Make the change and record it, atomically (a failed change records nothing)."""
        return await run_sync(self._apply, tool, ref, _plain(fields), change, describe)


def _plain(fields: dict[str, Any]) -> dict[str, Any]:
    """Fields as they round-trip through JSON, so a stored row compares equal."""
    return json.loads(json.dumps(fields, default=str))


def effects_for(*, thread_id: str, user_message_id: str) -> list[dict[str, Any]]:
    """What earlier runs of this message changed: [{"tool", "result"}], oldest first."""
    rows = ToolEffect.objects.filter(thread_id=thread_id, user_message_id=user_message_id)
    return [{"tool": tool, "result": result} for tool, result in rows.values_list("tool", "result")]


async def aeffects_for(*, thread_id: str, user_message_id: str) -> list[dict[str, Any]]:
    return await run_sync(effects_for, thread_id=thread_id, user_message_id=user_message_id)


async def already_applied_notes(thread_id: str, message_id: str) -> list[TResponseInputItem]:
    """On a rerun: a note telling the model which changes the earlier run already made."""
    effects = await aeffects_for(thread_id=thread_id, user_message_id=message_id)
    if not effects:
        return []
    lines = [f"- {e['tool']} -> {json.dumps(e['result'], ensure_ascii=False)}" for e in effects]
    return [
        note(
            "This message is being answered again. These changes were already made "
            "the first time; calling the same tool again will not repeat them:\n" + "\n".join(lines)
        )
    ]
