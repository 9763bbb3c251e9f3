"""Webhook mode: an aiohttp server in front of the Application, for several processes behind a
load balancer. Every request must carry Telegram's secret token header (403 otherwise); an update
the database could not apply gets 503, so Telegram delivers it again. A client that sends nothing,
or its body too slowly, is cut off (KEEPALIVE_S, BODY_S)."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy import text
from telegram import Update
from telegram.ext import Application

from bot.faults import describe
from bot.metrics import Metrics
from bot.pipeline import Acknowledgement, current_update
from storage.db import Database

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1 << 20  # Telegram's updates are far smaller
BODY_S = 10.0  # the whole body must arrive within this long
KEEPALIVE_S = 15.0  # a connection with no request under way is closed after this long (aiohttp: ~1 h)


def webhook_path(url: str) -> str:
    return urlsplit(url).path or "/"


class WebhookServer:
    def __init__(
        self,
        app: Application,
        db: Database,
        metrics: Metrics,
        secret: str,
        path: str,
        body_seconds: float = BODY_S,
        keepalive_seconds: float = KEEPALIVE_S,
    ) -> None:
        self.app = app
        self.db = db
        self.metrics = metrics
        self.secret = secret.encode()
        self.path = path
        self.body_seconds = body_seconds
        self.keepalive_seconds = keepalive_seconds
        self.web = web.Application(client_max_size=MAX_BODY)
        self.web.router.add_post(path, self.on_update)
        self.web.router.add_get("/healthz", self.on_health)
        self.web.router.add_get("/metrics", self.on_metrics)

    async def on_update(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, self.secret):
            return web.Response(status=403, text="forbidden")
        try:
            async with asyncio.timeout(self.body_seconds):
                body = await request.read()
        except TimeoutError:
            return web.Response(status=408, text="body too slow")  # and the connection is closed
        try:
            data = json.loads(body)
            if not isinstance(data, dict) or type(data.get("update_id")) is not int:
                raise ValueError("an update has an integer update_id")
            update = Update.de_json(data, self.app.bot)
        except Exception:  # not JSON, or not an update
            return web.Response(status=400, text="bad update")
        ack = Acknowledgement()
        token = current_update.set(ack)
        try:
            await self.app.process_update(update)
        finally:
            current_update.reset(token)
        return web.Response(status=503 if ack.retry else 200, text="retry" if ack.retry else "ok")

    async def on_health(self, _request: web.Request) -> web.Response:
        try:
            await asyncio.wait_for(self.db.run(lambda c: c.execute(text("SELECT 1"))), timeout=2)
        except Exception as exc:
            return web.Response(status=503, text=f"database unavailable: {describe(exc)}")
        return web.Response(text="ok")

    async def on_metrics(self, _request: web.Request) -> web.Response:
        body = await self.metrics.render(self.db)
        return web.Response(body=body, content_type="text/plain", charset="utf-8")

    async def start(self, host: str, port: int) -> web.AppRunner:
        # lingering_time=0: a request whose body did not all arrive is closed at once, not read on
        # (aiohttp's default reads for up to 10 s more)
        runner = web.AppRunner(
            self.web, shutdown_timeout=25, keepalive_timeout=self.keepalive_seconds, lingering_time=0
        )
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
