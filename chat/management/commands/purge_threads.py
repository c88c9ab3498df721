"""Delete chat threads idle longer than the retention period (CHATKIT_THREAD_RETENTION_DAYS).

python manage.py purge_threads [--days N] [--dry-run]
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from attachments.services import attachment_purge_orphans
from chat.services import thread_purge


class Command(BaseCommand):
    help = (
        "Delete chat threads (and their items) with no activity for more than N days "
        "(default: CHATKIT_THREAD_RETENTION_DAYS). --dry-run only counts them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Idle days after which a thread is purged "
            f"(default {settings.CHATKIT['THREAD_RETENTION_DAYS']}).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be deleted; delete nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days: int | None = options["days"]
        if days is None:
            days = settings.CHATKIT["THREAD_RETENTION_DAYS"]
        if days < 0:
            raise CommandError("--days must not be negative.")
        dry_run: bool = options["dry_run"]
        result = thread_purge(older_than_days=days, dry_run=dry_run)
        if options["verbosity"] >= 1:
            verb = "Would delete" if dry_run else "Deleted"
            self.stdout.write(
                self.style.SUCCESS(
                    f"{verb} {result['threads']} thread(s) and {result['items']} item(s) "
                    f"idle for more than {days} day(s)."
                )
            )
        if options["verbosity"] >= 2:
            self.stdout.write(f"  cutoff: {result['cutoff'].isoformat()}")
        # Attachments announced but never sent (their threads' go with them above).
        orphans = attachment_purge_orphans(dry_run=dry_run)
        if options["verbosity"] >= 1:
            self.stdout.write(
                self.style.SUCCESS(
                    f"{'Would delete' if dry_run else 'Deleted'} {orphans} unsent "
                    "attachment(s) older than a day."
                )
            )
