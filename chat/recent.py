"""The newest items of one thread, held by the store for the length of one request.

A user-message turn reads its thread's newest items (the model's history, then the
SDK's own re-read) and writes a few (tool notes, the answer). The history is read
under the turn lock (chat/turns.py), so no other turn writes to the thread while the
copy is held, and the store keeps it current through the turn's own writes: no read
goes back to the database. A write it can't place for certain (an older item, one
whose time moved) drops the copy: the next read goes to the database.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatkit.types import ThreadItem

from chat.rows import fresh_copy


@dataclass
class RecentItems:
    thread_id: str
    items: list[ThreadItem]  # newest first, as stored (aware UTC times, thread's id)
    has_more: bool  # older items exist beyond `items`

    def newest(self, limit: int) -> tuple[list[ThreadItem], bool] | None:
        """The newest `limit` items as copies (a reader may change what it is given) and
        whether more exist; None when the copy holds fewer and the thread has more."""
        if limit > len(self.items) and self.has_more:
            return None
        data = [fresh_copy(item) for item in self.items[:limit]]
        return data, len(self.items) > limit or self.has_more

    def written(self, stored: ThreadItem) -> bool:
        """Take in an item just written to the thread; False when it can't be placed."""
        for index, held in enumerate(self.items):
            if held.id == stored.id:
                if held.created_at != stored.created_at:
                    return False  # moved in the order
                self.items[index] = stored
                return True
        if self.items and stored.created_at < self.items[0].created_at:
            return False  # not the newest: its place is somewhere below
        self.items.insert(0, stored)
        return True
