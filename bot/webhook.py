"""Webhook mode: an aiohttp server in front of the Application, for several processes behind a
load balancer. Every request must carry Telegram's secret token header (403 otherwise); an update
the database could not apply gets 503, so Telegram delivers it again."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import signal
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy import text
from telegram import Update
from telegram.ext import Application

from bot.metrics import Metrics
from bot.resilience import TurnStatus, current_turn
from storage.db import Database

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1 << 20  # Telegram's updates are far smaller


def webhook_path(url: str) -> str:
    return urlsplit(url).path or "/"


class WebhookServer:
    def __init__(self, app: Application, db: Database, metrics: Metrics, secret: str, path: str) -> None:
        self.app = app
        self.db = db
        self.metrics = metrics
        self.secret = secret.encode()
        self.path = path
        self.web = web.Application(client_max_size=MAX_BODY)
        self.web.router.add_post(path, self.on_update)
        self.web.router.add_get("/healthz", self.on_health)
        self.web.router.add_get("/metrics", self.on_metrics)

    async def on_update(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            return web.Response(status=403, text="forbidden")
        try:
            update = Update.de_json(await request.json(), self.app.bot)
        except Exception:  # not JSON, or not an update
            return web.Response(status=400, text="bad update")
        status = TurnStatus()
        token = current_turn.set(status)
        try:
            await self.app.process_update(update)
        finally:
            current_turn.reset(token)
        return web.Response(status=503 if status.retry else 200, text="retry" if status.retry else "ok")

    async def on_health(self, _request: web.Request) -> web.Response:
        try:
            await asyncio.wait_for(self.db.run(lambda c: c.execute(text("SELECT 1"))), timeout=2)
        except Exception as exc:
            return web.Response(status=503, text=f"database unavailable: {type(exc).__name__}")
        return web.Response(text="ok")

    async def on_metrics(self, _request: web.Request) -> web.Response:
        body = await self.metrics.render(self.db)
        return web.Response(body=body, content_type="text/plain", charset="utf-8")

    async def start(self, host: str, port: int) -> web.AppRunner:
        runner = web.AppRunner(self.web, shutdown_timeout=25)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        return runner


async def serve(
    app: Application,
    db: Database,
    metrics: Metrics,
    url: str,
    secret: str,
    host: str,
    port: int,
    allowed_updates: list[str],
) -> None:
    """Run until SIGTERM or SIGINT: then stop taking updates, finish those in flight, and exit."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with app:
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()  # the job queue (reminders, retries) runs in every process
        server = WebhookServer(app, db, metrics, secret, webhook_path(url))
        runner = await server.start(host, port)
        await app.bot.set_webhook(url, secret_token=secret, allowed_updates=allowed_updates)
        log.info("webhook serving on %s:%s%s", host, port, server.path)
        await stop.wait()
        log.info("stopping: finishing the updates in flight")
        await runner.cleanup()  # stops listening, waits for running requests
        await app.stop()
        if app.post_shutdown is not None:
            with contextlib.suppress(Exception):
                await app.post_shutdown(app)
