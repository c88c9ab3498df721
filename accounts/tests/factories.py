"""Factories for users."""

import factory

from accounts.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    name = factory.LazyAttribute(lambda o: o.username.title())
    better_auth_id = factory.Sequence(lambda n: f"ba-user-{n:06d}")
    password = factory.django.Password("pw-for-tests-123")
