"""A private PostgreSQL cluster for the tests that stop, crash and restart the database.

The machine's shared server (127.0.0.1:5432) is never touched: this cluster has a data directory
in /tmp, a free port and a socket directory of its own. initdb refuses to run as root, so as root
the server runs as the `postgres` user (runuser).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Literal

import asyncpg

from tests.chaos.processes import free_port

StopMode = Literal["smart", "fast", "immediate"]


def find_bindir() -> Path | None:
    """The directory of initdb and pg_ctl: the newest /usr/lib/postgresql/N/bin, else the PATH."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0
    )
    for bindir in reversed(versions):
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return Path(initdb).resolve().parent
    return None


class PgCluster:
    """One private cluster: `init()` and `start()` it, `stop()` it (fast or as a crash) and start it
    again, create a database per test; `destroy()` removes it."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.base = Path(tempfile.mkdtemp(prefix="icpbot-chaos-pg-"))
        self.data = self.base / "data"
        self.sockets = self.base / "sock"
        self.logfile = self.base / "postgres.log"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        self.sockets.mkdir()
        if self.as_root:
            shutil.chown(self.base, "postgres", "postgres")
            shutil.chown(self.sockets, "postgres", "postgres")

    def _run(self, *args: str, timeout: float = 60) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_root else []
        done = subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")

    def init(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.logfile), "-w", "start"
        )

    def stop(self, mode: StopMode = "fast") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def ensure_running(self) -> None:
        """After a test that stopped the server, whatever happened."""
        if not self.running:
            self.start()

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            if self.running:
                self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)

    # --- databases ------------------------------------------------------------------------------
    def url(self, database: str) -> str:
        """DATABASE_URL as an operator would write it (the bot picks the asyncpg driver)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(host="127.0.0.1", port=self.port, user="postgres", database="postgres", timeout=10)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def create_database(self, template: str | None = None) -> str:
        """A new database: empty, or a copy of `template`. Returns its name."""
        name = f"chaos_{uuid.uuid4().hex[:12]}"
        await self._admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return name

    async def drop_database(self, name: str) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def log_tail(self, lines: int = 15) -> str:
        text = self.logfile.read_text(errors="replace").splitlines() if self.logfile.exists() else []
        return "\n".join(text[-lines:])


class CatalogGate:
    """Holds back every schema change in one database until released, so that processes started one
    after another reach their migrations at the same moment.

    A transaction holds the database's pg_class in SHARE mode: reading the catalog goes on (a
    process connects and inspects the schema), while the first CREATE, which must insert into
    pg_class, waits. Once the expected number of sessions wait on a lock (or after a timeout: a
    process that serialises its migrations itself waits elsewhere, or not at all), the gate opens.
    """

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._conn: asyncpg.Connection | None = None
        self._tx: Any = None

    async def __aenter__(self) -> CatalogGate:
        self._conn = await asyncpg.connect(self.database_url, timeout=10)
        self._tx = self._conn.transaction()
        await self._tx.start()
        await self._conn.execute("LOCK TABLE pg_catalog.pg_class IN SHARE MODE")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.open()

    async def waiting(self) -> int:
        """Sessions of this database waiting for a lock (on the catalog, or an advisory lock)."""
        assert self._conn is not None
        return int(
            await self._conn.fetchval(
                "SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        )

    async def wait_for(self, sessions: int, timeout: float) -> int:
        """Wait until `sessions` sessions wait (at most `timeout` seconds); how many do."""
        deadline = time.monotonic() + timeout
        while (count := await self.waiting()) < sessions and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return count

    async def open(self) -> None:
        if self._conn is not None:
            await self._tx.rollback()
            await self._conn.close()
            self._conn = None
