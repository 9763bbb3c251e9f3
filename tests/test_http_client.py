"""The Bot API client (python-telegram-bot's HTTPXRequest over httpx/httpcore) as production uses it.

httpcore asks `import sniffio` on every request, several times; without sniffio installed each
ask is a failed import that searches every entry of sys.path on disk (about 90 µs each, half a
millisecond per Bot API call). sniffio is therefore a dependency, and this test fails if a
request ever searches for a module again.
"""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from aiohttp import web
from telegram.request import HTTPXRequest


class _Lookups(importlib.abc.MetaPathFinder):
    """Records every module name Python had to search for (modules already imported are not searched)."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        self.names.append(fullname)
        return None  # let the real finders answer


async def test_a_bot_api_call_searches_for_no_module() -> None:
    async def answer(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    request = HTTPXRequest()
    await request.initialize()
    lookups = _Lookups()
    try:
        url = f"http://127.0.0.1:{port}/bot123:abc/answerCallbackQuery"
        await request.post(url)  # the first call may import what httpx loads lazily
        sys.meta_path.insert(0, lookups)
        for _ in range(3):
            assert await request.post(url) is True
    finally:
        if lookups in sys.meta_path:
            sys.meta_path.remove(lookups)
        await request.shutdown()
        await runner.cleanup()
    assert lookups.names == []
