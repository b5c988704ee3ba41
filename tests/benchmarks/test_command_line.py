"""The benchmark command refuses bad options before it starts a server."""

from __future__ import annotations

import pytest
from benchmarks.__main__ import main
from benchmarks.settings import database_from_url


def test_keep_without_a_database_url_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(["core", "--keep"])

    assert excinfo.value.code == 2
    assert "--keep needs --database-url" in capsys.readouterr().err


def test_unknown_strategy_is_refused_with_the_known_names(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(["inlist", "--strategies", "plain,fast"])

    assert excinfo.value.code == 2
    assert "--strategies names no known value or an unknown one (fast)" in (
        capsys.readouterr().err
    )


def test_database_url_becomes_a_postgresql_database_entry() -> None:
    assert database_from_url("postgresql://postgres@127.0.0.1:5432/bench") == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "bench",
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": "127.0.0.1",
        "PORT": "5432",
    }


def test_database_url_of_another_database_is_refused() -> None:
    with pytest.raises(ValueError, match="is not a PostgreSQL URL"):
        database_from_url("mysql://root@127.0.0.1/test")


def test_shared_buffers_with_a_database_url_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(
            [
                "inlist",
                "--database-url",
                "postgresql://postgres@127.0.0.1:5432/postgres",
                "--shared-buffers",
                "1GB",
            ]
        )

    assert excinfo.value.code == 2
    assert "--shared-buffers" in capsys.readouterr().err
