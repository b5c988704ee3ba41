"""factory-boy factories for the core test models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import factory
from factory.declarations import Sequence

if TYPE_CHECKING:
    from collections.abc import Callable

from tests.testapp.models import Entry, Owner, TypedKey, Uniqueness


def sequence(function: Callable[[int], Any]) -> Any:
    """``factory.Sequence``, which factory-boy leaves untyped."""
    return Sequence(function)  # type: ignore[no-untyped-call]


class OwnerFactory(factory.django.DjangoModelFactory[Owner]):
    class Meta:
        model = Owner

    name = sequence(lambda n: f"owner{n}")


class EntryFactory(factory.django.DjangoModelFactory[Entry]):
    class Meta:
        model = Entry

    a = sequence(lambda n: n % 7)
    b = sequence(lambda n: n % 3)
    c = None
    word = sequence(lambda n: f"w{n % 5}")


class TypedKeyFactory(factory.django.DjangoModelFactory[TypedKey]):
    class Meta:
        model = TypedKey


class UniquenessFactory(factory.django.DjangoModelFactory[Uniqueness]):
    class Meta:
        model = Uniqueness

    slug = sequence(lambda n: f"slug{n}")
    x = sequence(lambda n: n)
    p = sequence(lambda n: n)


def create_entries(count: int, **fields: Any) -> list[Entry]:
    return EntryFactory.create_batch(count, **fields)
