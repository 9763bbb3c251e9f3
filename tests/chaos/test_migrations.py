"""`python -m bot db upgrade` in three processes at once on an empty PostgreSQL database (several
processes deployed together, each migrating at start): every one exits 0 and the schema ends at
Alembic's head.

Three processes started together still reach their first CREATE TABLE a few hundred milliseconds
apart, often one after another's commit. To make them meet, a `CatalogGate` holds every schema
change in that database back until all three wait (or 10 s pass), then lets them go at once.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from storage.db import alembic_config
from storage.models import metadata
from tests.chaos.postgres import CatalogGate
from tests.chaos.report import line, record
from tests.chaos.scenario import Chaos

pytestmark = pytest.mark.chaos
PROCESSES = 3


def _schema(conn: Connection) -> tuple[list[str], set[str]]:
    tables = set(inspect(conn).get_table_names())
    if "alembic_version" not in tables:
        return [], tables
    return [r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))], tables


async def test_concurrent_db_upgrade_on_empty_postgres(chaos: Chaos, pg_database: str) -> None:
    """Three `db upgrade` processes migrating an empty database at the same moment all exit 0, and the
    database ends with one alembic_version row at head and every table of storage/models.py."""
    commands = [chaos.fleet.command(pg_database, "db", "upgrade") for _ in range(PROCESSES)]
    async with CatalogGate(pg_database) as gate:
        for command in commands:
            command.start()
        met = await gate.wait_for(PROCESSES, timeout=10)
    codes = await asyncio.gather(*(asyncio.to_thread(c.proc.wait, 60) for c in commands if c.proc is not None))
    engine = create_async_engine(make_url(pg_database).set(drivername="postgresql+asyncpg"))
    try:
        async with engine.connect() as conn:
            versions, tables = await conn.run_sync(_schema)
    finally:
        await engine.dispose()
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    problems = [f"{c.name} exited with {code}" for c, code in zip(commands, codes, strict=True) if code != 0]
    if versions != [head]:
        problems.append(f"alembic_version is {versions}, expected [{head!r}]")
    if missing := set(metadata.tables) - tables:
        problems.append(f"tables missing: {sorted(missing)}")
    seconds = round(time.monotonic() - chaos.started, 1)
    figures = {"processes": PROCESSES, "met_at_gate": met, "exit_codes": codes, "schema": versions, "seconds": seconds}
    record(chaos.name, **figures)
    print(line(chaos.name, figures))
    assert not problems, "\n".join([*problems, "stderr of the processes:", chaos.fleet.tails(8)])
