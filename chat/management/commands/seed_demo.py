"""Create the demo user, a staff admin, a few demo todos and a sample conversation.

Run again, it changes nothing that exists; `--reset` restores the demo."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from chat.services import demo_thread_id, seed_demo_conversation
from config.env import env_str
from todos import services
from todos.models import Priority, Todo

# Documented defaults (README, Quickstart): local demo credentials, never for production.
DEFAULT_DEMO_PASSWORD = "demo-pass-123"
DEFAULT_ADMIN_PASSWORD = "admin-pass-123"

# (title, description, priority, days until due or None, completed)
DEMO_TODOS: list[tuple[str, str, str, int | None, bool]] = [
    ("Buy groceries", "Milk, eggs, bread and coffee.", Priority.MEDIUM, 1, False),
    ("Finish the quarterly report", "Send it to the team by Friday.", Priority.HIGH, 3, False),
    ("Book a dentist appointment", "", Priority.LOW, None, False),
    ("Call mum", "Ask about the weekend plans.", Priority.MEDIUM, 0, False),
    ("Renew the library card", "", Priority.LOW, None, True),
]


class Command(BaseCommand):
    help = (
        "Create the demo user 'demo' (password $DEMO_PASSWORD or "
        f"'{DEFAULT_DEMO_PASSWORD}'), the superuser 'admin' (password $ADMIN_PASSWORD or "
        f"'{DEFAULT_ADMIN_PASSWORD}'), a few demo todos and a sample conversation. Run "
        "again, it changes nothing that exists (no password reset, no deleted or renamed "
        "demo todo brought back); --reset restores the demo."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="restore the demo: both passwords, the demo user's todos as first seeded "
            "(its other todos go) and the sample conversation",
        )

    def handle(self, *args: Any, reset: bool = False, **options: Any) -> None:
        verbosity: int = options["verbosity"]
        given_demo, given_admin = env_str("DEMO_PASSWORD"), env_str("ADMIN_PASSWORD")
        if not settings.DEBUG and not (given_demo and given_admin):
            # Never the documented passwords on a production database.
            raise CommandError(
                "seed_demo refuses to run with DJANGO_DEBUG=0 unless DEMO_PASSWORD and "
                "ADMIN_PASSWORD are both set (the defaults are public)."
            )
        demo_password = given_demo or DEFAULT_DEMO_PASSWORD
        admin_password = given_admin or DEFAULT_ADMIN_PASSWORD

        with transaction.atomic():
            demo, demo_set = self._user(
                username="demo",
                email="demo@example.com",
                name="Demo User",
                password=demo_password,
                staff=False,
                reset=reset,
            )
            admin_user, admin_set = self._user(
                username="admin",
                email="admin@example.com",
                name="Admin",
                password=admin_password,
                staff=True,
                reset=reset,
            )
            # The demo's todos and conversation are seeded with the demo user (or
            # restored by --reset): a todo the user deleted or renamed stays so.
            created = self._seed(demo, verbosity, reset=reset) if demo_set else 0

        if verbosity >= 1:
            if demo_set:
                self.stdout.write(
                    self.style.SUCCESS(f"Demo data ready ({created} new todo(s) for {demo.email}).")
                )
            else:
                self.stdout.write(
                    self.style.SUCCESS(
                        "Demo data already there: nothing changed "
                        "(`manage.py seed_demo --reset` restores it)."
                    )
                )
            demo_shown = self._shown(demo_set, demo_password, "DEMO_PASSWORD")
            self.stdout.write(f"  demo user:  username 'demo'  password {demo_shown}")
            self.stdout.write(
                f"  admin user: username '{admin_user.username}'  password "
                f"{self._shown(admin_set, admin_password, 'ADMIN_PASSWORD')}  (/admin/)"
            )

    @staticmethod
    def _shown(was_set: bool, password: str, variable: str) -> str:
        if not was_set:
            return "unchanged"
        # Passwords of a production database are never printed.
        return f"'{password}'" if settings.DEBUG else f"from ${variable}"

    def _user(
        self, *, username: str, email: str, name: str, password: str, staff: bool, reset: bool
    ) -> tuple[User, bool]:
        """The user, created with `password` if missing; an existing one is left as it is
        unless `reset` (then its password is set again and it is active). Also says
        whether the password was set now."""
        user, created = User.objects.get_or_create(
            username=username, defaults={"email": email, "name": name}
        )
        if not (created or reset):
            return user, False
        user.email = user.email or email
        user.name = user.name or name
        user.is_active = True
        user.is_staff = user.is_staff or staff
        user.is_superuser = user.is_superuser or staff
        user.set_password(password)
        user.save()
        return user, True

    def _seed(self, demo: User, verbosity: int, *, reset: bool) -> int:
        if reset:
            for todo_id in Todo.objects.for_user(demo).values_list("id", flat=True):
                services.todo_delete(user=demo, todo_id=todo_id)
            demo.chat_threads.filter(id=demo_thread_id(demo)).delete()
        created = self._todos(demo, verbosity)
        seed_demo_conversation(user=demo)
        if verbosity >= 2:
            self.stdout.write("  + sample chat thread 'Add buy milk'")
        return created

    def _todos(self, demo: User, verbosity: int) -> int:
        today = timezone.localdate()
        created = 0
        # Oldest first, so the list (newest first) shows them in DEMO_TODOS order.
        for title, description, priority, due_in, completed in reversed(DEMO_TODOS):
            services.todo_create(
                user=demo,
                title=title,
                description=description,
                priority=priority,
                due_date=today + datetime.timedelta(days=due_in) if due_in is not None else None,
                completed=completed,
            )
            created += 1
            if verbosity >= 2:
                self.stdout.write(f"  + todo {title!r}")
        return created
