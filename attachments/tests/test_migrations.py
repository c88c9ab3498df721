"""Moving `Attachment` from chat to attachments keeps every row and file: a database
holding an attachment (and its file row) before the move holds both after it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("chat", "0003_visible_items"), ("attachments", "0002_attachment_rejection")]
AFTER = [("chat", "0004_attachment_moved_to_attachments")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_an_attachment_stored_before_the_move_is_there_after_it():
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    others = [node for node in leaves if node[0] not in {"chat", "attachments"}]
    try:
        old = migrate(others + BEFORE)
        owner = old.get_model("accounts", "User").objects.create(username="before-the-move")
        thread = old.get_model("chat", "Thread").objects.create(id="thr_moved", owner=owner)
        old.get_model("chat", "Attachment").objects.create(
            id="atc_moved", owner=owner, thread=thread, data={"name": "notes.txt"}
        )
        old.get_model("attachments", "AttachmentFile").objects.create(
            attachment_id="atc_moved",
            owner=owner,
            name="notes.txt",
            mime_type="text/plain",
            kind="file",
            size=5,
            storage_name="ab/cd/notes",
        )

        new = migrate(others + AFTER)

        attachment = new.get_model("attachments", "Attachment").objects.get(id="atc_moved")
        assert (attachment.owner_id, attachment.thread_id) == (owner.pk, "thr_moved")
        assert attachment.data == {"name": "notes.txt"}
        assert attachment.file.storage_name == "ab/cd/notes"
        assert new.get_model("attachments", "Attachment")._meta.db_table == "chat_attachment"
        with pytest.raises(LookupError):
            new.get_model("chat", "Attachment")
    finally:
        migrate(leaves)
