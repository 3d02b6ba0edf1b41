"""Store URLs: parsing, where they come from (flag, environment, config), bad ones."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from layerscope import cli
from layerscope.errors import UsageError
from layerscope.store.location import parse_store_url, resolve_store


def test_sqlite_urls_and_bare_paths(tmp_path: Path) -> None:
    assert parse_store_url("sqlite:///var/h.db").path == Path("/var/h.db")
    assert parse_store_url("sqlite:////var/h.db").path == Path("/var/h.db")
    bare = parse_store_url("rel/h.db")
    assert (bare.engine, bare.path) == ("sqlite", Path("rel/h.db"))
    assert parse_store_url(str(tmp_path / "h.db")).path == tmp_path / "h.db"


def test_postgresql_urls_hide_the_password() -> None:
    url = "postgresql://ci:p%40ss%3Aword@db.example:6432/layerscope?sslmode=require"
    location = parse_store_url(url)
    assert location.engine == "postgresql" and location.dsn == url
    assert location.password == "p@ss:word"
    assert location.shown == "postgresql://ci:***@db.example:6432/layerscope?sslmode=require"
    assert location.scrub(f"failed for {url}: p@ss:word") == f"failed for {location.shown}: ***"
    plain = parse_store_url("postgres://ci@db/hist")
    assert (plain.password, plain.shown) == (None, "postgres://ci@db/hist")


@pytest.mark.parametrize(
    "text,message",
    [
        ("postgresql://ci:hunter2@db", "no database name"),
        ("postgresql://ci:hunter2@db:port/x", "the port is not a number"),
        ("mysql://ci:hunter2@db/x", "unknown store URL scheme 'mysql'"),
        ("sqlite://relative.db", "write sqlite:///PATH with an absolute PATH"),
        ("postgresql:db", "a store URL needs '://'"),
        ("", "empty store URL"),
    ],
)
def test_bad_urls_are_one_line_without_the_password(text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_store_url(text)
    assert message in caught.value.message and "hunter2" not in caught.value.message
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["history", "app", "--store", text], stdout=out, stderr=err) == 2
    assert len(err.getvalue().strip().splitlines()) == 1 and "hunter2" not in err.getvalue()


def test_flag_then_environment_then_config_then_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    default = resolve_store(None, tmp_path)
    assert default.path is not None and default.path.name == "history.sqlite3"
    (tmp_path / "pyproject.toml").write_text(
        '[tool.layerscope]\nstore = "postgresql://ci@db/from-pyproject"\n'
    )
    assert resolve_store(None, tmp_path).shown == "postgresql://ci@db/from-pyproject"
    (tmp_path / ".layerscope.toml").write_text('store = "sqlite:///srv/from-toml.db"\n')
    assert resolve_store(None, tmp_path).path == Path("/srv/from-toml.db")
    monkeypatch.setenv("LAYERSCOPE_STORE", "sqlite:///srv/from-env.db")
    assert resolve_store(None, tmp_path).path == Path("/srv/from-env.db")
    assert resolve_store("sqlite:///srv/flag.db", tmp_path).path == Path("/srv/flag.db")


def test_the_config_store_is_used_by_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "team.sqlite3"
    (tmp_path / ".layerscope.toml").write_text(f'store = "sqlite:///{target}"\n')
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["history", "prune", "--keep", "1"], stdout=out, stderr=err) == 0, err
    assert out.getvalue().strip() == f"pruned 0 builds from {target}; 0 left"
    assert target.is_file()
    (tmp_path / ".layerscope.toml").write_text("store = 5\n")
    assert cli.main(["history", "prune", "--keep", "1"], stdout=out, stderr=err) == 2
    assert ".layerscope.toml: store must be a string" in err.getvalue()


def test_a_postgresql_url_no_longer_makes_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LAYERSCOPE_STORE_RETRY_SECONDS", "0")
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["history", "app", "--store", "postgresql://u:pw@127.0.0.1:1/db"],
                    stdout=out, stderr=err)  # fmt: skip
    assert code == 3 and list(tmp_path.iterdir()) == []


def test_a_sqlite_store_never_loads_the_postgresql_driver(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from layerscope.store.history import HistoryStore\n"
        f"with HistoryStore({'sqlite:///' + str(tmp_path / 'h.db')!r}) as store:\n"
        "    store.repositories()\n"
        "print('psycopg' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_bad_retry_budget_is_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAYERSCOPE_STORE_RETRY_SECONDS", "soon")
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["history", "app", "--store", "postgresql://u@127.0.0.1:1/db"],
                    stdout=out, stderr=err)  # fmt: skip
    assert code == 2
    assert "LAYERSCOPE_STORE_RETRY_SECONDS=soon: expected a number of seconds" in err.getvalue()
