from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from chat.management.commands.seed_demo import DEMO_TODOS
from chat.models import Thread
from todos.models import Todo

pytestmark = pytest.mark.django_db

DEMO_TITLES = [title for title, *_ in DEMO_TODOS]


@pytest.fixture(autouse=True)
def _quickstart_debug(settings):
    """seed_demo's defaults are for DJANGO_DEBUG=1 (the Quickstart); pytest-django
    runs tests with DEBUG off, which is what the production tests below keep."""
    settings.DEBUG = True


def seed(**kwargs) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **kwargs)
    return out.getvalue()


def test_seed_demo_creates_users_and_todos_and_prints_credentials(monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    output = seed()
    demo = User.objects.get(username="demo")
    admin = User.objects.get(username="admin")
    assert demo.email == "demo@example.com"
    assert demo.check_password("demo-pass-123")
    assert not demo.is_staff
    assert admin.is_staff and admin.is_superuser
    assert admin.check_password("admin-pass-123")
    assert "demo-pass-123" in output and "admin-pass-123" in output
    titles = list(Todo.objects.for_user(demo).values_list("title", flat=True))
    # Newest first: the list shows them in the documented order (the chat app's
    # sample conversation may add its own todo on top).
    assert [title for title in titles if title in DEMO_TITLES] == DEMO_TITLES
    assert Todo.objects.for_user(demo).filter(title__in=DEMO_TITLES, completed=True).count() == 1


def test_seed_demo_twice_changes_nothing():
    seed()
    before = (User.objects.count(), Todo.objects.count(), list(Todo.objects.values("id", "title")))
    seed()
    after = (User.objects.count(), Todo.objects.count(), list(Todo.objects.values("id", "title")))
    assert after == before
    assert Todo.objects.filter(title__in=DEMO_TITLES).count() == len(DEMO_TITLES)


def test_seed_demo_again_changes_nothing_that_exists():
    """`make run` seeds on every start: it must not sign anyone out (a password reset
    changes the session hash) nor bring back what the user deleted or renamed."""
    seed()
    demo = User.objects.get(username="demo")
    demo.set_password("my-own-password-1")
    demo.save()
    admin = User.objects.get(username="admin")
    admin.set_password("admins-own-password-1")
    admin.save()
    Todo.objects.filter(title="Call mum").delete()
    Todo.objects.filter(title="Buy groceries").update(title="Buy groceries and flowers")
    Thread.objects.filter(owner=demo).delete()
    Todo.objects.filter(title="buy milk").delete()

    output = seed(verbosity=2)

    demo.refresh_from_db()
    admin.refresh_from_db()
    assert demo.check_password("my-own-password-1")
    assert admin.check_password("admins-own-password-1")
    titles = set(Todo.objects.for_user(demo).values_list("title", flat=True))
    assert "Call mum" not in titles and "buy milk" not in titles
    assert "Buy groceries" not in titles and "Buy groceries and flowers" in titles
    assert not Thread.objects.filter(owner=demo).exists()
    assert "nothing changed" in output and "--reset" in output
    assert "demo-pass-123" not in output and "password unchanged" in output


def test_seed_demo_reset_restores_the_demo():
    seed()
    demo = User.objects.get(username="demo")
    demo.set_password("my-own-password-1")
    demo.is_active = False
    demo.save()
    Todo.objects.filter(title="Call mum").delete()
    Todo.objects.filter(title="Buy groceries").update(title="Buy groceries and flowers")
    Thread.objects.filter(owner=demo).delete()

    output = seed(reset=True)

    demo.refresh_from_db()
    assert demo.check_password("demo-pass-123") and demo.is_active
    assert User.objects.get(username="admin").check_password("admin-pass-123")
    titles = list(Todo.objects.for_user(demo).values_list("title", flat=True))
    assert sorted(titles) == sorted([*DEMO_TITLES, "buy milk"])
    assert Thread.objects.filter(owner=demo).count() == 1
    assert "demo-pass-123" in output


def test_seed_demo_passwords_from_the_environment(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "s3cret-demo")
    monkeypatch.setenv("ADMIN_PASSWORD", "s3cret-admin")
    output = seed()
    assert User.objects.get(username="demo").check_password("s3cret-demo")
    assert User.objects.get(username="admin").check_password("s3cret-admin")
    assert "s3cret-demo" in output


def test_seed_demo_is_quiet_at_verbosity_0():
    assert seed(verbosity=0) == ""
    assert User.objects.filter(username="demo").exists()


@pytest.mark.parametrize(
    "given",
    [{}, {"DEMO_PASSWORD": "s3cret-demo"}, {"ADMIN_PASSWORD": "s3cret-admin"}],
    ids=["no-passwords", "demo-only", "admin-only"],
)
def test_seed_demo_refuses_in_production_without_both_passwords(monkeypatch, settings, given):
    settings.DEBUG = False
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    for name, value in given.items():
        monkeypatch.setenv(name, value)
    # An existing admin is not reset to the public password either.
    admin = User.objects.create_user("admin", password="kept-password-1")

    with pytest.raises(CommandError, match="DEMO_PASSWORD and ADMIN_PASSWORD"):
        seed()

    admin.refresh_from_db()
    assert admin.check_password("kept-password-1") and not admin.is_superuser
    assert not User.objects.filter(username="demo").exists()


def test_seed_demo_in_production_with_both_passwords_never_prints_them(monkeypatch, settings):
    settings.DEBUG = False
    monkeypatch.setenv("DEMO_PASSWORD", "s3cret-demo")
    monkeypatch.setenv("ADMIN_PASSWORD", "s3cret-admin")
    output = seed()
    assert User.objects.get(username="admin").check_password("s3cret-admin")
    assert "s3cret" not in output
