"""Sentry's tests of its RangeQuerySetWrapper, for the features rangeqs shares.

Written from the public behaviour that Sentry's tests/sentry/utils/test_query.py
checks (late 2025), against models with the fields those tests use. Only the
import differs from code written against ``sentry.utils.query``, except where
a comment says "DIFFERENCE": each of those is listed in
docs/howto/migrate-from-sentry.md.

Not ported: Sentry's retry tests patch ``QuerySet.__getitem__`` to raise
OperationalError, and rangeqs never slices the queryset to fetch a page
(DIFFERENCE: it compiles each page's statement once and rebinds it), so the
patch would not be reached; tests/core/test_retries.py checks the same
behaviour on a real lock timeout. ``bulk_delete_objects`` is not part of
rangeqs (DIFFERENCE).
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from django.utils import timezone

from rangeqs import (
    InvalidQuerySetError,
    RangeQuerySetWrapper,
    RangeQuerySetWrapperWithProgressBar,
    RangeQuerySetWrapperWithProgressBarApprox,
)
from tests.testapp.models import SentryGroup as Group
from tests.testapp.models import SentryUser as User

pytestmark = pytest.mark.django_db

_serial = itertools.count()


class Fixtures:
    """The factories of Sentry's TestCase that these tests use."""

    def create_user(self) -> User:
        number = next(_serial)
        return User.objects.create(username=f"user{number}", name=f"User {number % 3}")

    def create_project(self) -> int:
        return next(_serial)

    def create_group(self, project: int, **fields: Any) -> Group:
        now = timezone.now()
        fields.setdefault("first_seen", now)
        fields.setdefault("last_seen", now)
        return Group.objects.create(project=project, **fields)


class TestRangeQuerySetWrapper(Fixtures):
    range_wrapper: ClassVar[type[RangeQuerySetWrapper[Any]]] = RangeQuerySetWrapper

    def test_basic(self) -> None:
        total = 10
        for _ in range(total):
            self.create_user()
        qs = User.objects.all()
        assert len(list(self.range_wrapper(qs, step=2))) == total
        assert len(list(self.range_wrapper(qs, limit=5))) == 5

    def test_loop_and_delete(self) -> None:
        total = 10
        for _ in range(total):
            self.create_user()
        qs = User.objects.all()
        for user in self.range_wrapper(qs, step=2):
            user.delete()
        assert User.objects.all().count() == 0

    def test_empty(self) -> None:
        qs = User.objects.all()
        assert len(list(self.range_wrapper(qs, step=2))) == 0

    def test_order_by_non_unique_fails(self) -> None:
        qs = User.objects.all()
        with pytest.raises(InvalidQuerySetError):
            self.range_wrapper(qs, order_by="name")
        # Shouldn't error if the safety check is disabled
        self.range_wrapper(qs, order_by="name", override_unique_safety_check=True)

    def test_order_by_unique(self) -> None:
        self.create_user()
        qs = User.objects.all()
        self.range_wrapper(qs, order_by="username")
        assert len(list(self.range_wrapper(qs, order_by="username", step=2))) == 1

    def test_wrapper_over_values_list(self) -> None:
        self.create_user()
        qs = User.objects.all().values_list("id")
        assert list(qs) == list(
            self.range_wrapper(qs, result_value_getter=lambda r: r[0])
        )

    def test_min_id_skips_earlier_records(self) -> None:
        users = [self.create_user() for _ in range(5)]
        user_ids = sorted([u.id for u in users])
        qs = User.objects.filter(id__in=user_ids)
        results = list(RangeQuerySetWrapper(qs, min_id=user_ids[2]))
        result_ids = [u.id for u in results]
        assert all(uid >= user_ids[2] for uid in result_ids)
        assert len(result_ids) == 3

    def test_descending_single_field_returns_all(self) -> None:
        users = [self.create_user() for _ in range(5)]
        expected_ids = {u.id for u in users}
        qs = User.objects.filter(id__in=expected_ids)
        results = list(RangeQuerySetWrapper(qs, step=-2))
        assert {u.id for u in results} == expected_ids
        result_ids = [u.id for u in results]
        assert result_ids == sorted(result_ids, reverse=True)

    def test_callbacks_are_called_for_each_batch(self) -> None:
        users = [self.create_user() for _ in range(5)]
        user_ids = [u.id for u in users]
        qs = User.objects.filter(id__in=user_ids)
        batches_received: list[list[User]] = []

        def capture_batch(batch: list[User]) -> None:
            batches_received.append(list(batch))

        results = list(RangeQuerySetWrapper(qs, step=2, callbacks=[capture_batch]))
        assert len(results) == 5
        # DIFFERENCE: Sentry refetches each page's last row as the first row of
        # the next (>= and skip), so its callbacks get [1,2], [2,3], [3,4],
        # [4,5], [5]: 5 batches, 9 rows. rangeqs pages strictly after the last
        # row: each row reaches the callbacks once.
        assert len(batches_received) == 3
        assert [len(batch) for batch in batches_received] == [2, 2, 1]
        assert [u.id for batch in batches_received for u in batch] == sorted(user_ids)

    def test_limit_with_multiple_batches(self) -> None:
        for _ in range(10):
            self.create_user()
        qs = User.objects.all()
        results = list(RangeQuerySetWrapper(qs, step=3, limit=7))
        assert len(results) == 7

    def test_single_field_non_unique_deduplicates_by_pk(self) -> None:
        project = self.create_project()
        same_timestamp = timezone.now() - timedelta(days=1)
        groups = [
            self.create_group(project=project, first_seen=same_timestamp)
            for _ in range(5)
        ]
        expected_ids = {g.id for g in groups}
        qs = Group.objects.filter(id__in=expected_ids)
        results = list(
            RangeQuerySetWrapper(
                qs,
                step=10,
                limit=10,
                order_by="first_seen",
                override_unique_safety_check=True,
            )
        )
        assert {g.id for g in results} == expected_ids


class TestRangeQuerySetWrapperWithProgressBar(TestRangeQuerySetWrapper):
    range_wrapper = RangeQuerySetWrapperWithProgressBar


class TestRangeQuerySetWrapperWithProgressBarApprox(TestRangeQuerySetWrapper):
    range_wrapper = RangeQuerySetWrapperWithProgressBarApprox


class TestRangeQuerySetWrapperKeysetPagination(Fixtures):
    """Sentry's compound keyset mode: use_compound_keyset_pagination=True."""

    def test_keyset_pagination_returns_all_rows_with_duplicate_keys(self) -> None:
        project = self.create_project()
        ts1 = timezone.now() - timedelta(days=3)
        ts2 = timezone.now() - timedelta(days=2)
        groups = [
            self.create_group(project=project, last_seen=ts1),
            self.create_group(project=project, last_seen=ts1),
            self.create_group(project=project, last_seen=ts1),
            self.create_group(project=project, last_seen=ts2),
            self.create_group(project=project, last_seen=ts2),
        ]
        expected_ids = {g.id for g in groups}
        qs = Group.objects.filter(id__in=expected_ids)
        results = list(
            RangeQuerySetWrapper(
                qs,
                step=2,
                order_by=["last_seen", "id"],
                use_compound_keyset_pagination=True,
            )
        )
        assert {g.id for g in results} == expected_ids

    def test_keyset_pagination_validates_last_field_unique(self) -> None:
        qs = Group.objects.all()
        # DIFFERENCE: Sentry refuses ["id", "last_seen"] because its last field
        # is not unique. rangeqs compares the whole key, so an ordering that
        # contains the pk anywhere is unique and is accepted; it refuses an
        # ordering with no unique set of fields.
        RangeQuerySetWrapper(
            qs, order_by=["id", "last_seen"], use_compound_keyset_pagination=True
        )
        with pytest.raises(InvalidQuerySetError):
            RangeQuerySetWrapper(
                qs,
                order_by=["last_seen", "first_seen"],
                use_compound_keyset_pagination=True,
            )
        # Should succeed with unique last field
        RangeQuerySetWrapper(
            qs, order_by=["last_seen", "id"], use_compound_keyset_pagination=True
        )

    def test_keyset_pagination_with_values_list(self) -> None:
        project = self.create_project()
        same_timestamp = timezone.now() - timedelta(days=1)
        groups = [
            self.create_group(project=project, last_seen=same_timestamp)
            for _ in range(3)
        ]
        expected_ids = {g.id for g in groups}
        qs = Group.objects.filter(id__in=expected_ids).values_list("id", "last_seen")
        results = list(
            RangeQuerySetWrapper(
                qs,
                step=1,
                order_by=["last_seen", "id"],
                use_compound_keyset_pagination=True,
                result_value_getter=lambda item: {"last_seen": item[1], "id": item[0]},
            )
        )
        assert {r[0] for r in results} == expected_ids

    def test_keyset_pagination_descending(self) -> None:
        project = self.create_project()
        ts1 = timezone.now() - timedelta(days=3)
        ts2 = timezone.now() - timedelta(days=1)
        groups = [
            self.create_group(project=project, last_seen=ts1),
            self.create_group(project=project, last_seen=ts2),
            self.create_group(project=project, last_seen=ts2),
        ]
        expected_ids = {g.id for g in groups}
        qs = Group.objects.filter(id__in=expected_ids)
        results = list(
            RangeQuerySetWrapper(
                qs,
                step=-2,
                order_by=["last_seen", "id"],
                use_compound_keyset_pagination=True,
            )
        )
        assert {g.id for g in results} == expected_ids
        last_seens = [g.last_seen for g in results]
        assert last_seens == sorted(last_seens, reverse=True)

    def test_keyset_pagination_rejects_min_id(self) -> None:
        qs = Group.objects.all()
        with pytest.raises(InvalidQuerySetError, match="min_id is not supported"):
            RangeQuerySetWrapper(
                qs,
                order_by=["last_seen", "id"],
                use_compound_keyset_pagination=True,
                min_id=1,
            )

    def test_keyset_pagination_forces_row_comparison_across_batches(self) -> None:
        project = self.create_project()
        ts1 = timezone.now() - timedelta(days=3)
        ts2 = timezone.now() - timedelta(days=2)
        ts3 = timezone.now() - timedelta(days=1)
        groups = [
            self.create_group(project=project, last_seen=ts1),
            self.create_group(project=project, last_seen=ts2),
            self.create_group(project=project, last_seen=ts3),
        ]
        expected_ids = {g.id for g in groups}
        qs = Group.objects.filter(id__in=expected_ids)
        results = list(
            RangeQuerySetWrapper(
                qs,
                step=1,
                order_by=["last_seen", "id"],
                use_compound_keyset_pagination=True,
            )
        )
        assert {g.id for g in results} == expected_ids
        last_seens = [g.last_seen for g in results]
        assert last_seens == sorted(last_seens)


@pytest.mark.parametrize("compound", [False, True])
def test_compound_order_by_is_exact_with_or_without_the_flag(compound: bool) -> None:
    # Sentry without the flag pages a compound order_by by its first field
    # only; rangeqs always compares the whole key (the flag changes nothing
    # but min_id).
    now = timezone.now()
    for index in range(7):
        Group.objects.create(first_seen=now, last_seen=now - timedelta(days=index % 2))
    qs = Group.objects.all()
    results = RangeQuerySetWrapper(
        qs,
        step=2,
        order_by=["last_seen", "id"],
        use_compound_keyset_pagination=compound,
    )
    assert [g.id for g in results] == list(
        qs.order_by("last_seen", "id").values_list("id", flat=True)
    )


def test_min_id_with_the_flag_and_a_single_key_is_refused_as_in_sentry() -> None:
    with pytest.raises(InvalidQuerySetError, match=r"^min_id is not supported"):
        RangeQuerySetWrapper(
            User.objects.all(), min_id=1, use_compound_keyset_pagination=True
        )
