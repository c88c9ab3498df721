# The Attachment model now belongs to `attachments` (its 0003): chat's state forgets
# it; the table (chat_attachment) and its rows stay where they are.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("attachments", "0003_attachment_moved_from_chat"),
        ("chat", "0003_visible_items"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Attachment")],
            database_operations=[],
        ),
    ]
