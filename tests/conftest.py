"""Shared fixtures: a Gestan database on SQLite, PostgreSQL and MariaDB.

The server databases are made once per test session (a database of our
own on each server, dropped at the end) and emptied before each test.
A server that does not answer skips its tests with the reason shown.
Override the admin URLs with TUI_CONNECTOR_TEST_POSTGRESQL and
TUI_CONNECTOR_TEST_MYSQL.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from urllib.parse import urlparse

import peewee as pw
import pytest

from tui_connector.gestan import models as m
from tui_connector.gestan import refcache
from tui_connector.gestan.database import engine_of, open_database, seed_reference_data

ADMIN_URLS = {
    "postgresql": os.environ.get(
        "TUI_CONNECTOR_TEST_POSTGRESQL", "postgresql://postgres@127.0.0.1:5432/test"
    ),
    "mysql": os.environ.get("TUI_CONNECTOR_TEST_MYSQL", "mysql://root@127.0.0.1:3306/test"),
}
BACKENDS = ["sqlite", "postgresql", "mysql"]


def _admin_connection(backend: str):
    parsed = urlparse(ADMIN_URLS[backend])
    if backend == "postgresql":
        import psycopg2

        conn = psycopg2.connect(
            host=parsed.hostname,
            port=parsed.port or 5432,
            user=parsed.username or "postgres",
            dbname=parsed.path.lstrip("/") or "postgres",
            connect_timeout=3,
        )
        conn.autocommit = True
        return conn
    import pymysql

    return pymysql.connect(
        host=parsed.hostname,
        port=parsed.port or 3306,
        user=parsed.username or "root",
        password=parsed.password or "",
        connect_timeout=3,
        autocommit=True,
    )


def _server_url(backend: str, name: str) -> str:
    parsed = urlparse(ADMIN_URLS[backend])
    return parsed._replace(path=f"/{name}").geturl()


@pytest.fixture(scope="session")
def server_databases():
    """{backend: URL of a database made for this test session} or the reason it is missing."""
    made: dict[str, str] = {}
    name = f"tuic_test_{uuid.uuid4().hex[:10]}"
    for backend in ("postgresql", "mysql"):
        try:
            conn = _admin_connection(backend)
            with conn.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE {name}")
            conn.close()
            made[backend] = _server_url(backend, name)
        except Exception as exc:  # the reason is shown on each skipped test
            made[backend] = f"unreachable: {type(exc).__name__}: {str(exc).strip()[:120]}"
    yield made
    for backend, url in made.items():
        if url.startswith("unreachable"):
            continue
        from tui_connector.gestan.models import database_proxy

        if database_proxy.obj is not None and not database_proxy.obj.is_closed():
            database_proxy.obj.close()
        conn = _admin_connection(backend)
        with conn.cursor() as cursor:
            if backend == "postgresql":
                cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            else:
                cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.close()


_opened: dict[str, pw.Database] = {}


def empty_all_tables(database: pw.Database) -> None:
    tables = [model._meta.table_name for model in m.ALL_MODELS]
    engine = engine_of(database)
    if engine == "postgresql":
        database.execute_sql(
            "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
        )
    elif engine == "mysql":  # TRUNCATE: the immutability triggers guard row deletes
        database.execute_sql("SET FOREIGN_KEY_CHECKS = 0")
        for table in tables:
            database.execute_sql(f"TRUNCATE TABLE `{table}`")
        database.execute_sql("SET FOREIGN_KEY_CHECKS = 1")
    else:
        for model in reversed(m.ALL_MODELS):
            model.delete().execute()


def database_url_for(backend: str, tmp_path, server_databases) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'gestan.db'}"
    url = server_databases[backend]
    if url.startswith("unreachable"):
        pytest.skip(f"{backend} server not available ({url})")
    return url


@pytest.fixture(params=BACKENDS)
def gestan_url(request, tmp_path, server_databases) -> str:
    """The URL of an empty database (no tables) on each backend."""
    url = database_url_for(request.param, tmp_path, server_databases)
    if request.param != "sqlite":
        _drop_all_tables(request.param, url)
    yield url
    if request.param != "sqlite":  # leave no odd schema version to the next test
        _drop_all_tables(request.param, url)


def _drop_all_tables(backend: str, url: str) -> None:
    from tui_connector.gestan.database import make_database

    database = make_database(url)
    with database.bind_ctx(m.ALL_MODELS):
        database.drop_tables(m.ALL_MODELS, safe=True, cascade=backend == "postgresql")
    database.close()
    stale = _opened.pop(backend, None)
    if stale is not None:
        stale.close()


@pytest.fixture(params=BACKENDS)
def gestan(request, tmp_path, server_databases) -> pw.Database:
    """A Gestan database with its reference data, bound to the models, on each backend."""
    backend = request.param
    url = database_url_for(backend, tmp_path, server_databases)
    if backend == "sqlite":
        database = open_database(url)
    else:
        database = _opened.get(backend)
        if database is None or database.is_closed():
            database = open_database(url)
            _opened[backend] = database
        else:
            m.database_proxy.initialize(database)
        empty_all_tables(database)
        refcache.clear()
        with database.atomic():
            seed_reference_data()
            m.Meta.create(key="schema_version", value=str(_schema_version()))
    yield database
    if backend == "sqlite":
        database.close()


def _schema_version() -> int:
    from tui_connector.gestan.database import SCHEMA_VERSION

    return SCHEMA_VERSION


@pytest.fixture
def client(shop):
    """A client of the module's simulated `shop`, with short backoffs."""
    from tui_connector.prestashop.client import SyncWebservice

    with SyncWebservice(shop.url, shop.key, backoff=0.01) as connected:
        yield connected


@pytest.fixture
def sqlite_gestan(tmp_path) -> pw.Database:
    database = open_database(f"sqlite:///{tmp_path / 'gestan.db'}")
    yield database
    database.close()


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Profiles and default databases go to the test's own folder, never the user's."""
    monkeypatch.setenv("TUI_CONNECTOR_CONFIG", str(tmp_path / "profile.ini"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    for name in ("TUI_CONNECTOR_SHOP_URL", "TUI_CONNECTOR_API_KEY", "TUI_CONNECTOR_DATABASE"):
        monkeypatch.delenv(name, raising=False)


def pytest_terminal_summary(terminalreporter):
    """Say how many database tests ran (and were skipped) on each backend."""
    counts: Counter = Counter()
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            for backend in BACKENDS:
                if f"[{backend}" in nodeid:
                    counts[(backend, outcome)] += 1
    if counts:
        terminalreporter.write_sep("-", "database tests per backend")
        for backend in BACKENDS:
            parts = [
                f"{counts[(backend, o)]} {o}"
                for o in ("passed", "failed", "skipped", "error")
                if counts[(backend, o)]
            ]
            terminalreporter.write_line(f"{backend}: {', '.join(parts) or 'none'}")
