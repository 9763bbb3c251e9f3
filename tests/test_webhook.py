"""The webhook over real HTTP on loopback: secret checked, health and metrics served, a lost
database answered with 503 (Telegram redelivers) and the update then applied once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy.exc import OperationalError

from bot.app import BotParts, assemble
from bot.config import Settings
from bot.webhook import SECRET_HEADER, WebhookServer
from storage.db import Database
from tests.fake_bot_api import FakeBotApi
from tests.harness import TOKEN, RecordingRequest, UpdateFactory

SECRET = "s3cret-token_value"
USER = 515


class Served:
    def __init__(self, parts: BotParts, request: RecordingRequest, url: str) -> None:
        self.parts, self.request, self.url = parts, request, url
        self.updates = UpdateFactory()

    async def post(self, payload: dict, secret: str | None = SECRET) -> int:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{self.url}/telegram", json=payload, headers=headers) as resp,
        ):
            return resp.status

    async def get(self, path: str) -> tuple[int, str]:
        async with aiohttp.ClientSession() as http, http.get(f"{self.url}{path}") as resp:
            return resp.status, await resp.text()


@pytest.fixture
async def served(sqlite_url: str) -> AsyncIterator[Served]:
    request = RecordingRequest()
    settings = Settings(
        telegram_bot_token=TOKEN,
        database_url=sqlite_url,
        telegram_max_rate=0,  # type: ignore[arg-type]
        reminder_interval_seconds=0,
        support_retry_seconds=0,
    )
    parts = assemble(settings, request=request)
    async with parts.app:
        assert parts.app.post_init is not None
        await parts.app.post_init(parts.app)
        server = WebhookServer(parts.app, parts.service.db, parts.metrics, SECRET, "/telegram")
        runner = await server.start("127.0.0.1", 0)
        host, port = runner.addresses[0][:2]
        yield Served(parts, request, f"http://{host}:{port}")
        await runner.cleanup()
        await parts.service.db.dispose()


def replies_to(request: RecordingRequest, user: int) -> list[str]:
    return [c.text for c in request.to_chat(user)]


async def test_right_secret_is_processed_wrong_and_missing_refused(served: Served) -> None:
    assert await served.post(served.updates.message(USER, "/check")) == 200
    assert any("Where is your server?" in t for t in replies_to(served.request, USER))
    before = len(served.request.calls)
    assert await served.post(served.updates.message(USER, "/start"), secret="wrong") == 403
    assert await served.post(served.updates.message(USER, "/start"), secret=None) == 403
    assert await served.post(served.updates.message(USER, "/start"), secret="") == 403
    assert len(served.request.calls) == before  # nothing processed


async def test_health_and_metrics(served: Served) -> None:
    assert await served.get("/healthz") == (200, "ok")
    await served.post(served.updates.message(USER, "/check"))
    await served.post(served.updates.message(USER, "/human"))
    status, text = await served.get("/metrics")
    assert status == 200
    assert 'icpbot_updates_total{kind="command"} 2.0' in text
    assert "icpbot_turn_seconds_bucket" in text and "icpbot_errors_total 0.0" in text
    assert "icpbot_open_tickets 1.0" in text and "icpbot_reminders_due 0.0" in text


async def test_lost_database_gets_503_and_the_redelivery_applies_once(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    update = served.updates.message(USER, "/check")
    real_run = Database.run

    async def unreachable(self: Database, fn: object, *args: object, **kwargs: object) -> object:
        raise OperationalError("SELECT", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(Database, "run", unreachable)
    assert await served.post(update) == 503
    assert (await served.get("/healthz"))[0] == 503
    assert replies_to(served.request, USER) == []
    monkeypatch.setattr(Database, "run", real_run)
    assert await served.post(update) == 200  # Telegram's redelivery
    assert await served.post(update) == 200  # and a second one: not applied again
    questions = [t for t in replies_to(served.request, USER) if "Where is your server?" in t]
    assert len(questions) == 1
    _, text = await served.get("/metrics")
    assert "icpbot_updates_not_applied_total 1.0" in text


def test_webhook_process_registers_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    factory = UpdateFactory()
    with FakeBotApi() as api:
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_", "WEBHOOK_"))}
        env.update(
            TELEGRAM_BOT_TOKEN="4242:webhook-test-token-xyz",
            TELEGRAM_API_BASE_URL=api.base_url,
            DATABASE_URL=f"sqlite:///{tmp_path / 'w.db'}",
            WEBHOOK_URL="https://bot.example/tg",
            WEBHOOK_SECRET=SECRET,
            PORT=str(port),
            WEBHOOK_LISTEN="127.0.0.1",
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--webhook"],
            env=env,
            cwd=Path(__file__).resolve().parents[1],
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _, params = api.wait_for(lambda m, p: m == "setWebhook")
            assert params["url"] == "https://bot.example/tg" and params["secret_token"] == SECRET
            body = json.dumps(factory.message(USER, "/start")).encode()
            req = urllib.request.Request(
                f"http://127.0.0.1:{port}/tg",
                data=body,
                method="POST",
                headers={"Content-Type": "application/json", SECRET_HEADER: SECRET},
            )
            assert urllib.request.urlopen(req, timeout=10).status == 200
            api.wait_for(lambda m, p: m == "sendMessage" and int(p.get("chat_id", 0)) == USER)
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(30)
        assert code == 0, proc.stderr.read() if proc.stderr else ""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _raw(url: str, request: bytes) -> bytes:
    """Send raw bytes over HTTP/1.1 and read the answer (until the server closes or 2 s pass)."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(request)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(4096), 2)
    finally:
        writer.close()


async def test_a_secret_header_that_is_not_utf8_is_refused(served: Served) -> None:
    body = json.dumps(served.updates.message(USER, "/start")).encode()
    head = (
        b"POST /telegram HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + SECRET_HEADER.encode()
        + b": \xff\xfe\xfa\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\nConnection: close\r\n\r\n"
    )
    answer = await _raw(served.url, head + body)
    assert answer.startswith(b"HTTP/1.1 403"), answer[:60]
    assert replies_to(served.request, USER) == []


@pytest.mark.parametrize("update_id", [None, "7", 1.5, [], {}])
async def test_an_update_without_an_integer_id_is_refused(served: Served, update_id: object) -> None:
    payload = served.updates.message(USER, "/start")
    payload["update_id"] = update_id
    assert await served.post(payload) == 400
    assert replies_to(served.request, USER) == []


async def test_slow_clients_are_cut_off_and_the_server_keeps_serving(sqlite_url: str) -> None:
    """Connections that never finish their headers or their body are closed after the timeouts;
    meanwhile and afterwards, updates are served."""
    request = RecordingRequest()
    settings = Settings(
        telegram_bot_token=TOKEN,
        database_url=sqlite_url,
        telegram_max_rate=0,  # type: ignore[arg-type]
        reminder_interval_seconds=0,
        support_retry_seconds=0,
    )
    parts = assemble(settings, request=request)
    async with parts.app:
        assert parts.app.post_init is not None
        await parts.app.post_init(parts.app)
        server = WebhookServer(
            parts.app, parts.service.db, parts.metrics, SECRET, "/telegram", body_seconds=0.5, keepalive_seconds=0.5
        )
        runner = await server.start("127.0.0.1", 0)
        host, port = runner.addresses[0][:2]
        served = Served(parts, request, f"http://{host}:{port}")
        try:
            slow = []
            for i in range(100):
                reader, writer = await asyncio.open_connection(host, port)
                if i % 2:  # headers never finished
                    writer.write(b"POST /telegram HTTP/1.1\r\nHost: x\r\n")
                else:  # a body promised and never sent
                    writer.write(
                        b"POST /telegram HTTP/1.1\r\nHost: x\r\n"
                        + SECRET_HEADER.encode()
                        + b": "
                        + SECRET.encode()
                        + b"\r\nContent-Length: 500\r\n\r\n{"
                    )
                await writer.drain()
                slow.append((reader, writer))
            assert await served.post(served.updates.message(USER, "/start")) == 200  # served meanwhile
            closed = await asyncio.wait_for(asyncio.gather(*(reader.read() for reader, _ in slow)), 5)
            assert len(closed) == 100  # every slow connection was closed by the server
            for _, writer in slow:
                writer.close()
            assert await served.post(served.updates.message(USER, "/help")) == 200
        finally:
            await runner.cleanup()
            await parts.service.db.dispose()


async def test_a_nul_in_a_message_is_answered_on_postgresql(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.harness import BotHarness

    async with BotHarness(postgres_url) as bot:
        calls = await bot.send(USER, "hello\x00 SECRETWORD there")  # a question the FAQ records as missed
        assert bot.errors() == 0
        assert calls and not any("something went wrong" in c.text for c in calls)
    assert "SECRETWORD" not in caplog.text
