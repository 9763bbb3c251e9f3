"""Chaos tests: real bot processes over loopback HTTP, faults injected, every user's stored state
and replies compared with a serial replay.

Fixtures: `chaos` (a fake Bot API, the test's processes, a seeded random source: CHAOS_SEED=N to
repeat a run's choices), `pg_cluster` (a private PostgreSQL cluster for the whole session, which
tests may stop and crash), `pg_database` (a fresh, empty database in it) and `pg_migrated` (a fresh
database already migrated). Without initdb/pg_ctl the PostgreSQL tests are skipped, or fail with
CI=true.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.postgres import PgCluster, find_bindir
from tests.chaos.processes import db_upgrade
from tests.chaos.report import REPORT, line
from tests.chaos.scenario import Chaos


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "chaos: real bot processes under injected faults, compared with a serial replay (tests/chaos)"
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Per chaos test: updates, duplicates, lost updates and replies, seconds."""
    if REPORT:
        terminalreporter.section("chaos")
        for test, figures in REPORT.items():
            terminalreporter.write_line(line(test, figures))


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"a private PostgreSQL cluster is required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    bindir = find_bindir()
    if bindir is None:
        _unavailable("initdb/pg_ctl not found")
    assert bindir is not None
    cluster = PgCluster(bindir)
    try:
        cluster.init()
        cluster.start()
    except Exception as exc:
        cluster.destroy()
        _unavailable(f"cannot start a private PostgreSQL cluster: {exc}")
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="session")
def pg_template(pg_cluster: PgCluster, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated to head by `python -m bot db upgrade`, to copy for each test."""
    name = asyncio.run(pg_cluster.create_database())
    db_upgrade(pg_cluster.url(name), tmp_path_factory.mktemp("template") / "db-upgrade.log")
    return name


def _database(cluster: PgCluster, template: str | None) -> Iterator[str]:
    cluster.ensure_running()
    name = asyncio.run(cluster.create_database(template))
    yield cluster.url(name)
    cluster.ensure_running()  # a test that stopped the server may have failed before starting it again
    with contextlib.suppress(Exception):
        asyncio.run(cluster.drop_database(name))


@pytest.fixture
def pg_database(pg_cluster: PgCluster) -> Iterator[str]:
    """DATABASE_URL of a fresh, empty database on the private cluster."""
    yield from _database(pg_cluster, None)


@pytest.fixture
def pg_migrated(pg_cluster: PgCluster, pg_template: str) -> Iterator[str]:
    """DATABASE_URL of a fresh database already at the schema's head: processes started together on it
    do not race to migrate it (tests/chaos/test_migrations.py is about that race)."""
    yield from _database(pg_cluster, pg_template)


@pytest.fixture
def chaos(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Chaos]:
    seed = int(os.environ.get("CHAOS_SEED") or random.SystemRandom().randrange(1 << 31))
    world = Chaos(request.node.name, tmp_path, seed)
    yield world
    world.close()
