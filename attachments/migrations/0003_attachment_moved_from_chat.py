# The Attachment model moves from `chat` to `attachments` without touching the
# database: its table keeps its name (chat_attachment) and every row, the file rows
# keep their foreign key to it, and only Django's idea of which app owns the model
# changes (chat's 0004 removes it from chat's state). The content type follows, so
# admin history and permissions stay attached.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor, *, old="chat", new="attachments"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not ContentType.objects.using(db).filter(app_label=new, model="attachment").exists():
        ContentType.objects.using(db).filter(app_label=old, model="attachment").update(
            app_label=new
        )


def move_content_type_back(apps, schema_editor):
    move_content_type(apps, schema_editor, old="attachments", new="chat")


class Migration(migrations.Migration):
    dependencies = [
        ("attachments", "0002_attachment_rejection"),
        ("chat", "0003_visible_items"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Attachment",
                    fields=[
                        ("id", models.CharField(max_length=255, primary_key=True, serialize=False)),
                        ("data", models.JSONField()),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "owner",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="chat_attachments",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "thread",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="attachments",
                                to="chat.thread",
                            ),
                        ),
                    ],
                    options={"db_table": "chat_attachment", "ordering": ["-created_at", "id"]},
                ),
                migrations.AlterField(
                    model_name="attachmentfile",
                    name="attachment",
                    field=models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="file",
                        serialize=False,
                        to="attachments.attachment",
                    ),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
