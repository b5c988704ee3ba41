"""How recorded statements become pages (no database needed)."""

from __future__ import annotations

from benchmarks.measure import PassResult, RecordedQuery, pages

from rangeqs._plans.bounded import SETTINGS_COMMENT


def _query(name: str, rowcount: int, position: int) -> RecordedQuery:
    return RecordedQuery(name, (), rowcount, position)


def test_statements_that_ran_between_the_same_two_rows_form_one_page() -> None:
    keys_then_rows = [
        _query("keys 1", 100, 0),
        _query("rows 1", 100, 0),
        _query("keys 2", 100, 100),
        _query("rows 2", 100, 100),
    ]

    walked = pages(PassResult(200, 1.0, keys_then_rows, complete=True))

    assert [[query.sql for query in page] for page in walked] == [
        ["keys 1", "rows 1"],
        ["keys 2", "rows 2"],
    ]


def test_the_query_that_only_finds_the_end_is_not_a_page() -> None:
    statements = [_query("page", 60, 0), _query("end", 0, 60)]

    walked = pages(PassResult(60, 1.0, statements, complete=True))

    assert [[query.sql for query in page] for page in walked] == [["page"]]


def test_a_trailing_settings_statement_that_only_found_the_end_is_not_a_page() -> None:
    settings = f"{SETTINGS_COMMENT}SELECT set_config('enable_sort', 'off', true)"
    statements = [
        RecordedQuery(settings, (), 1, 0),
        _query("page", 60, 0),
        RecordedQuery(settings, (), 1, 60),
        _query("end", 0, 60),
    ]

    walked = pages(PassResult(60, 1.0, statements, complete=True))

    assert [[query.sql for query in page] for page in walked] == [[settings, "page"]]
