"""Factories for todos."""

import factory

from accounts.tests.factories import UserFactory
from todos.models import Priority, Todo


class TodoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Todo

    owner = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Todo number {n}")
    description = ""
    completed = False
    priority = Priority.MEDIUM
    due_date = None
