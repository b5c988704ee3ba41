"""Querysets whose rows keyset pages cannot reproduce are refused at construction.

Each of these was accepted before and yielded rows that differ from
Django's own evaluation of the queryset (issue 9, defects 6, 7, 8 and 13).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Count, F, Max, Q, Window
from django.db.models.functions import RowNumber

from rangeqs import InvalidQuerySetError, RangeQuerySetWrapper
from tests.core.factories import EntryFactory, OwnerFactory
from tests.testapp.models import Article, Entry, Owner, Tagging, Topic

pytestmark = pytest.mark.django_db


def pks(rows: Any) -> list[Any]:
    return [row.pk for row in rows]


@pytest.fixture
def articles() -> list[Article]:
    red, blue = Topic.objects.create(name="red"), Topic.objects.create(name="blue")
    made = []
    for index in range(4):
        article = Article.objects.create(title=f"a{index}")
        for label in ("red", "blue", "green")[: index + 1]:
            Tagging.objects.create(article=article, label=label)
        article.topics.set([red, blue][: index % 3])
        made.append(article)
    return made


@pytest.mark.parametrize(
    ("queryset", "relation"),
    [
        (
            lambda: Article.objects.filter(taggings__label__in=["red", "blue"]),
            "taggings",
        ),
        (lambda: Article.objects.filter(topics__name__in=["red", "blue"]), "topics"),
        (lambda: Topic.objects.filter(articles__title__startswith="a"), "articles"),
        (lambda: Article.objects.annotate(label=F("taggings__label")), "taggings"),
        (lambda: Article.objects.values("title", "taggings__label"), "taggings"),
        (lambda: Owner.objects.filter(Q(entry__b=1) | Q(name="x")), "entry"),
    ],
    ids=["reverse-fk", "m2m", "reverse-m2m", "annotation", "values", "or"],
)
def test_multi_valued_join_is_refused_naming_the_relation(
    articles: list[Article], queryset: Any, relation: str
) -> None:
    # Defect 6: these rows repeat once per related match, and how many
    # repeats the wrapper yielded depended on step.
    with pytest.raises(InvalidQuerySetError, match=f"relation '{relation}'.*pk__in="):
        RangeQuerySetWrapper(queryset())


@pytest.mark.parametrize("step", [1, 2, 1000])
def test_the_suggested_subquery_yields_each_row_once_at_every_step(
    articles: list[Article], step: int
) -> None:
    matching = Tagging.objects.filter(label__in=["red", "blue"]).values("article_id")
    queryset = Article.objects.filter(pk__in=matching)
    rows = list(RangeQuerySetWrapper(queryset, step=step))
    assert pks(rows) == sorted(queryset.values_list("pk", flat=True))
    assert len(rows) == len(articles)


@pytest.mark.parametrize("step", [1, 3])
def test_exclude_over_a_multi_valued_relation_is_accepted(
    articles: list[Article], step: int
) -> None:
    # Django evaluates it as a subquery: no join repeats a row.
    queryset = Article.objects.exclude(taggings__label="green")
    rows = list(RangeQuerySetWrapper(queryset, step=step))
    assert pks(rows) == sorted(queryset.values_list("pk", flat=True))


def test_single_valued_joins_are_accepted() -> None:
    owners = OwnerFactory.create_batch(2)
    EntryFactory.create_batch(5, owner=owners[0])
    EntryFactory.create_batch(2, owner=owners[1])
    queryset = Entry.objects.filter(owner__name=owners[0].name).select_related("owner")
    rows = list(RangeQuerySetWrapper(queryset, step=2))
    assert pks(rows) == sorted(queryset.values_list("pk", flat=True))
    assert {row.owner_id for row in rows} == {owners[0].pk}


@pytest.mark.parametrize(
    "queryset",
    [
        lambda: Entry.objects.values("b").annotate(n=Count("id")),
        lambda: Entry.objects.values_list("b").annotate(top=Max("a")),
        lambda: Entry.objects.values("b", "a").annotate(n=Count("id")),
    ],
    ids=["values-annotate", "values-list-annotate", "values-two-annotate"],
)
def test_group_by_is_refused(queryset: Any) -> None:
    # Defect 7: the keys joined the GROUP BY and every group held one row.
    EntryFactory.create_batch(3, b=1)
    with pytest.raises(InvalidQuerySetError, match=r"GROUP BY.*Subquery"):
        RangeQuerySetWrapper(
            queryset(), order_by="b", override_unique_safety_check=True
        )


def test_reverse_is_refused_and_a_negative_step_walks_backwards() -> None:
    # Defect 8: reverse() flipped each page's ORDER BY but not its bound,
    # and nine rows came out as [9, 8, 9].
    EntryFactory.create_batch(9)
    with pytest.raises(InvalidQuerySetError, match=r"reverse\(\).*negative step"):
        RangeQuerySetWrapper(Entry.objects.all().reverse(), step=2)
    rows = list(RangeQuerySetWrapper(Entry.objects.all(), step=-2))
    assert pks(rows) == sorted(Entry.objects.values_list("pk", flat=True), reverse=True)


def test_reversed_twice_is_the_queryset_itself() -> None:
    EntryFactory.create_batch(3)
    rows = list(RangeQuerySetWrapper(Entry.objects.reverse().reverse(), step=2))
    assert pks(rows) == sorted(Entry.objects.values_list("pk", flat=True))


@pytest.mark.parametrize(
    "queryset",
    [
        lambda: Entry.objects.annotate(row=Window(RowNumber(), order_by=F("id").asc())),
        lambda: Entry.objects.alias(row=Window(RowNumber())).filter(row__lte=2),
    ],
    ids=["annotate", "filter"],
)
def test_window_expressions_are_refused(queryset: Any) -> None:
    # Defect 13: RowNumber() restarted on every page.
    EntryFactory.create_batch(4)
    with pytest.raises(InvalidQuerySetError, match="window expression"):
        RangeQuerySetWrapper(queryset(), step=2)


@pytest.mark.parametrize(
    ("queryset", "order_by"),
    [
        (lambda: Owner.objects.annotate(entries=Count("entry")), "pk"),
        (
            lambda: Owner.objects.annotate(entries=Count("entry")).filter(
                entries__gt=1
            ),
            "pk",
        ),
        (lambda: Entry.objects.alias(n=Count("id")).filter(n__gt=0), "pk"),
        (lambda: Article.objects.annotate(tags=Count("taggings")), "-pk"),
        (
            lambda: Owner.objects.values("pk", "name").annotate(entries=Count("entry")),
            "pk",
        ),
    ],
    ids=["annotate", "having", "alias-having", "reverse-fk-desc", "values-with-pk"],
)
@pytest.mark.parametrize("step", [1, 2, 1000])
def test_an_aggregate_per_row_is_paged_as_django_evaluates_it(
    queryset: Any, order_by: str, step: int, articles: list[Article]
) -> None:
    # GROUP BY the model's rows keeps one group per row: the keys split no
    # group, and the join's repeats are counted, not yielded.
    owners = OwnerFactory.create_batch(3)
    for count, owner in zip((0, 1, 3), owners, strict=True):
        EntryFactory.create_batch(count, owner=owner)
    expected = list(queryset().order_by(order_by))
    rows = list(RangeQuerySetWrapper(queryset(), order_by=order_by, step=step))
    assert rows == expected
    if rows and not isinstance(rows[0], dict):
        counts = [getattr(row, "entries", getattr(row, "tags", None)) for row in rows]
        assert counts == [
            getattr(row, "entries", getattr(row, "tags", None)) for row in expected
        ]


def test_extra_tables_are_refused() -> None:
    # A cross join: every entry once per owner, and pages of pk repeat them.
    OwnerFactory.create_batch(2)
    EntryFactory.create_batch(3)
    with pytest.raises(InvalidQuerySetError, match=r"extra\(tables="):
        RangeQuerySetWrapper(Entry.objects.extra(tables=["testapp_owner"]), step=2)
