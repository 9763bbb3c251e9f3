"""A fake Bot API server on loopback that can fail on purpose.

Like tests/fake_bot_api.py it serves getUpdates from a queue with Telegram's offset confirmation
semantics (an update is confirmed, and never served again, once getUpdates is called with an
offset greater than its id) and answers the other methods with plausible results. In addition:

- every reply that reached it (sendMessage, editMessageText) is recorded with the chat, the text
  and the time it arrived, so a test can compare what each chat received with a serial replay;
- an outage can be switched on and off: the methods that carry replies (sendMessage,
  editMessageText, answerCallbackQuery) then get HTTP 502 (as from Telegram's front end), or the
  connection is dropped without an answer. Calls refused this way are not recorded as received.

It runs in threads of its own, so it keeps answering whatever the test's event loop is doing.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs

from tests.harness import api_method

BOT = {"id": 999000, "is_bot": True, "first_name": "ICP helper", "username": "icp_helper_bot"}
REPLY_METHODS = ("sendMessage", "editMessageText")
FAULTABLE = ("sendMessage", "editMessageText", "answerCallbackQuery")
LONG_POLL_CAP = 0.5  # seconds a getUpdates call waits for updates at most (a restarted bot polls at once)

Fault = Literal["502", "drop"]


@dataclass(frozen=True)
class Received:
    """One reply that reached the Bot API."""

    method: str
    chat_id: int
    text: str
    at: float  # time.monotonic()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A bot killed in the middle of a call leaves a broken socket behind: not worth a traceback."""


class ChaosBotApi:
    """Use as a context manager; `base_url` is the TELEGRAM_API_BASE_URL for the bot processes."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.updates: list[dict[str, Any]] = []
        self.confirmed_offset = 0
        self.get_updates_calls = 0
        self.served = 0  # the highest update id getUpdates has handed out
        self.received: list[Received] = []
        self.methods: Counter[str] = Counter()  # every call answered normally, by method
        self.refused: Counter[str] = Counter()  # calls failed by an outage, by method
        self.fault: Fault | None = None
        self.fault_methods: tuple[str, ...] = FAULTABLE
        self._ids = itertools.count(700)
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, name="chaos-bot-api", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> ChaosBotApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
        self.server.server_close()

    # --- control ------------------------------------------------------------------------------
    def push(self, update: dict[str, Any]) -> None:
        """Queue an update for getUpdates (polling mode)."""
        with self.cond:
            self.updates.append(update)
            self.cond.notify_all()

    def wait_served(self, update_id: int, timeout: float) -> bool:
        """Wait until getUpdates has handed out this update (polling mode)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.served < update_id:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.cond.wait(remaining)
            return True

    def set_fault(self, fault: Fault | None, methods: tuple[str, ...] = FAULTABLE) -> None:
        """Start (a fault) or end (None) an outage of `methods`."""
        with self.cond:
            self.fault = fault
            self.fault_methods = methods

    # --- what was received ----------------------------------------------------------------------
    def replies(self) -> list[Received]:
        with self.cond:
            return list(self.received)

    def texts_by_chat(self) -> dict[int, Counter[str]]:
        """Per chat, the multiset of reply texts received."""
        out: dict[int, Counter[str]] = {}
        for r in self.replies():
            out.setdefault(r.chat_id, Counter())[r.text] += 1
        return out

    def last_reply_at(self) -> float | None:
        with self.cond:
            return self.received[-1].at if self.received else None

    # --- the server -----------------------------------------------------------------------------
    def _faulted(self, method: str) -> Fault | None:
        with self.cond:
            if self.fault is not None and method in self.fault_methods:
                self.refused[method] += 1
                return self.fault
            return None

    def answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getUpdates":
            return self._get_updates(params)
        with self.cond:
            self.methods[method] += 1
            if method in REPLY_METHODS:
                chat_id = int(params.get("chat_id", 0))
                self.received.append(Received(method, chat_id, str(params.get("text", "")), time.monotonic()))
            self.cond.notify_all()
        if method == "getMe":
            return BOT
        if method in REPLY_METHODS:
            chat_id = int(params.get("chat_id", 0))
            message_id = int(params["message_id"]) if "message_id" in params else next(self._ids)
            return {
                "message_id": message_id,
                "date": int(time.time()),
                "text": params.get("text", ""),
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT,
            }
        return True

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), LONG_POLL_CAP)
        with self.cond:
            self.get_updates_calls += 1
            if offset:
                self.confirmed_offset = max(self.confirmed_offset, offset)
            self.cond.notify_all()
            pending = [u for u in self.updates if u["update_id"] >= self.confirmed_offset]
            if not pending and timeout:
                self.cond.wait(timeout)
                pending = [u for u in self.updates if u["update_id"] >= self.confirmed_offset]
            if pending:
                self.served = max(self.served, pending[-1]["update_id"])
                self.cond.notify_all()
            return pending

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                method = api_method(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if len(raw) < length:  # the bot died while sending: Telegram never sees such a call
                    self.close_connection = True
                    return
                body = raw.decode()
                fault = api._faulted(method)
                if fault == "drop":  # no answer at all: the client sees the connection closed
                    self.close_connection = True
                    return
                if fault == "502":
                    self._send(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
                    return
                params = _params(body, self.headers.get("Content-Type") or "")
                payload = json.dumps({"ok": True, "result": api.answer(method, params)}).encode()
                self._send(200, payload, "application/json")

            def _send(self, status: int, payload: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                return None

        return Handler


def _params(body: str, content_type: str) -> dict[str, Any]:
    """A Bot API call's parameters, sent as JSON or as a form with JSON-encoded values."""
    if "json" in content_type:
        return dict(json.loads(body or "{}"))
    params: dict[str, Any] = {}
    for key, values in parse_qs(body).items():
        try:
            params[key] = json.loads(values[0])
        except ValueError:
            params[key] = values[0]
    return params
