"""A minimal Bot API server on loopback, for running the real `python -m bot run` process against.

It serves getUpdates from a queue (with Telegram's offset confirmation semantics), records every
other call, and answers them with plausible results.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from tests.harness import api_method

BOT = {"id": 999000, "is_bot": True, "first_name": "ICP helper", "username": "icp_helper_bot"}


class FakeBotApi:
    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []
        self.confirmed_offset = 0
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.cond = threading.Condition()
        self._ids = itertools.count(700)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeBotApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def push(self, update: dict[str, Any]) -> None:
        with self.cond:
            self.updates.append(update)
            self.cond.notify_all()

    def wait_for(self, predicate: Any, timeout: float = 20.0) -> tuple[str, dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for call in self.calls:
                    if predicate(*call):
                        return call
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out; calls so far: {[c[0] for c in self.calls]}")
                self.cond.wait(remaining)

    def wait_confirmed(self, update_id: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.confirmed_offset <= update_id:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError("update never confirmed")
                self.cond.wait(remaining)

    def answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT
        if method == "getUpdates":
            offset = int(params.get("offset") or 0)
            timeout = min(float(params.get("timeout") or 0), 1.0)
            with self.cond:
                if offset:
                    self.confirmed_offset = max(self.confirmed_offset, offset)
                    self.cond.notify_all()
                pending = [u for u in self.updates if u["update_id"] >= self.confirmed_offset]
                if not pending and timeout:
                    self.cond.wait(timeout)
                    pending = [u for u in self.updates if u["update_id"] >= self.confirmed_offset]
                return pending
        with self.cond:
            self.calls.append((method, params))
            self.cond.notify_all()
        if method in ("sendMessage", "editMessageText"):
            chat_id = int(params.get("chat_id", 0))
            mid = int(params["message_id"]) if "message_id" in params else next(self._ids)
            return {
                "message_id": mid,
                "date": int(time.time()),
                "text": params.get("text", ""),
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT,
            }
        return True

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                method = api_method(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                params: dict[str, Any] = {}
                if "json" in (self.headers.get("Content-Type") or ""):
                    params = json.loads(body or "{}")
                else:
                    for key, values in parse_qs(body).items():
                        try:
                            params[key] = json.loads(values[0])
                        except ValueError:
                            params[key] = values[0]
                payload = json.dumps({"ok": True, "result": api.answer(method, params)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                return None

        return Handler
