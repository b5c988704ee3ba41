"""The page-fetching protocol every plan follows.

The wrapper splits the key order into phases (one per NULL pattern of the
leading nullable keys, see ``rangeqs._keyset.split_phases``) and builds one
plan object per phase with :meth:`PageStrategy.__init__`:

``queryset``
    The caller's queryset restricted to that phase: the caller's filters
    plus the phase's ``IS NULL`` / ``IS NOT NULL`` filters and the
    ``min_id`` bound, ordering cleared, and, for rows whose keys are not
    readable, the key columns appended as annotations. Fetch the rows from
    this queryset (or querysets derived from it) and return them as they
    come: the wrapper splits them into the caller's row and its keys.
``keys``
    The ordered keys of the phase (:class:`rangeqs._keys.Key`: ``name`` is
    the column's attname, ``descending`` the direction). The first key is
    NOT NULL in every row of the phase; later keys may be NULL.

:meth:`PageStrategy.fetch_page` returns the rows strictly after a position, in key
order, at most ``size`` of them: a list, or a
:class:`rangeqs._plans.prepared.FetchedRows` whose statement has run and
whose rows are made as the caller reaches them (what
:class:`~rangeqs._plans.prepared.PreparedPage` returns). A position is the
tuple of one row's key values for ``keys`` (or None for the start of the
phase). Every plan must
honour the same position semantics, so that a cursor made under one plan
resumes under another: "after" means after in the order that
``queryset.order_by(*(key.ordering for key in keys))`` gives on this
database, NULLs included. ``rangeqs._keyset.after`` builds that condition.

``Plan.compiled_pages`` says whether the pages run as statements compiled
once (rangeqs._django's private-API path) or as ordinary queryset
evaluations; a plan passes it to every :class:`PreparedPage` it makes.

Fewer than ``size`` rows means the phase is exhausted: the wrapper moves on
to the next phase without asking again. The wrapper counts every statement
a plan executes inside ``fetch_page`` (through
``connection.execute_wrapper``) and reports the total as
``wrapper.queries``: a plan counts nothing itself, and any statement it
runs, MariaDB's sorted IN lists included, is counted (``PageStrategy.queries`` is a
leftover the wrapper no longer reads). Retrying on ``OperationalError`` is
the wrapper's job: it calls ``fetch_page`` again with the same arguments.
``fetch_page`` is synchronous; async iteration runs it through
``asgiref.sync.sync_to_async``, as Django's own async ORM does.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from rangeqs._django import compiled_pages
from rangeqs._inlist import rewrite_in_lists
from rangeqs._plans.bounded import page_guard
from rangeqs._plans.prepared import PreparedPage

if TYPE_CHECKING:
    from collections.abc import Sequence

    from django.db.models import QuerySet

    from rangeqs._keys import Key
    from rangeqs._plans.bounded import ListKind


class PageStrategy(ABC):
    """The page strategy of one phase (what ``plan=`` names): fetches its pages."""

    #: The name callers pass as ``plan=`` and read back from ``wrapper.plan``.
    name: ClassVar[str]
    #: The IN list whose values a page takes one at a time (rangeqs._plans.bounded).
    walks_list: ClassVar[ListKind | None] = None

    def __init__(self, queryset: QuerySet[Any, Any], keys: Sequence[Key]) -> None:
        # Planned on the filters as written, before the IN lists are rewritten.
        self.guard = page_guard(queryset, keys, list_kind=self.walks_list)
        # Long IN lists go as one parameter, whatever the plan (rangeqs._inlist).
        self.queryset = rewrite_in_lists(queryset)
        self.keys = tuple(keys)
        self.queries = 0
        # Read when the walk starts (a walk builds its plans): compiled
        # statements, or ordinary querysets (rangeqs._django).
        self.compiled_pages = compiled_pages(queryset)

    @abstractmethod
    def fetch_page(self, after: tuple[Any, ...] | None, size: int) -> Sequence[Any]:
        """At most ``size`` rows strictly after ``after``, in key order."""

    def ordered(self, queryset: QuerySet[Any, Any]) -> QuerySet[Any, Any]:
        """``queryset`` in the key order of this phase."""
        return queryset.order_by(*(key.ordering for key in self.keys))

    def run(self, queryset: QuerySet[Any, Any]) -> Sequence[Any]:
        """Run one statement; its rows are made as they are reached."""
        return PreparedPage(
            queryset, [], guard=self.guard, compiled=self.compiled_pages
        ).rows(())
