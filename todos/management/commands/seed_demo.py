"""Create the demo user, a staff admin and a few demo todos. Safe to run again."""

from __future__ import annotations

import datetime
import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
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
        "Create (or refresh) the demo user 'demo' (password $DEMO_PASSWORD or "
        f"'{DEFAULT_DEMO_PASSWORD}'), the superuser 'admin' (password $ADMIN_PASSWORD or "
        f"'{DEFAULT_ADMIN_PASSWORD}') and a few demo todos. Running it again adds nothing twice."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity: int = options["verbosity"]
        given_demo, given_admin = os.environ.get("DEMO_PASSWORD"), os.environ.get("ADMIN_PASSWORD")
        if not settings.DEBUG and not (given_demo and given_admin):
            # SPEC: never the documented passwords on a production database.
            raise CommandError(
                "seed_demo refuses to run with DJANGO_DEBUG=0 unless DEMO_PASSWORD and "
                "ADMIN_PASSWORD are both set (the defaults are public)."
            )
        demo_password = given_demo or DEFAULT_DEMO_PASSWORD
        admin_password = given_admin or DEFAULT_ADMIN_PASSWORD

        with transaction.atomic():
            demo = self._user(
                username="demo",
                email="demo@example.com",
                name="Demo User",
                password=demo_password,
                staff=False,
            )
            admin_user = self._user(
                username="admin",
                email="admin@example.com",
                name="Admin",
                password=admin_password,
                staff=True,
            )
            created = self._todos(demo, verbosity)

        if verbosity >= 1:
            self.stdout.write(
                self.style.SUCCESS(f"Demo data ready ({created} new todo(s) for {demo.email}).")
            )
            # Passwords of a production database are never printed.
            demo_shown = f"'{demo_password}'" if settings.DEBUG else "from $DEMO_PASSWORD"
            admin_shown = f"'{admin_password}'" if settings.DEBUG else "from $ADMIN_PASSWORD"
            self.stdout.write(f"  demo user:  username 'demo'  password {demo_shown}")
            self.stdout.write(
                f"  admin user: username '{admin_user.username}'  password {admin_shown}  (/admin/)"
            )

        # --- Chat: sample conversation --------------------------------------------
        # Idempotent too (seed_demo runs on every Quickstart start).
        from chat.services import seed_demo_conversation

        seed_demo_conversation(user=demo)
        if verbosity >= 2:
            self.stdout.write("  + sample chat thread 'Add buy milk'")
        # --- end of chat sample conversation ---------------------------------------

    def _user(self, *, username: str, email: str, name: str, password: str, staff: bool) -> User:
        """Get or create the user and (re)set the password, so the printed one works."""
        user, _ = User.objects.get_or_create(
            username=username, defaults={"email": email, "name": name}
        )
        user.email = user.email or email
        user.name = user.name or name
        user.is_active = True
        user.is_staff = user.is_staff or staff
        user.is_superuser = user.is_superuser or staff
        user.set_password(password)
        user.save()
        return user

    def _todos(self, demo: User, verbosity: int) -> int:
        today = timezone.localdate()
        existing = set(Todo.objects.for_user(demo).values_list("title", flat=True))
        created = 0
        # Oldest first, so the list (newest first) shows them in DEMO_TODOS order.
        for title, description, priority, due_in, completed in reversed(DEMO_TODOS):
            if title in existing:
                continue
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
