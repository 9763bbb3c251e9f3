"""Drive the real python-telegram-bot Application offline.

`RecordingRequest` stands in for the HTTP transport: it answers the Bot API methods the bot
uses with plausible results and records every call, so tests assert on what the bot really
sent (method, chat, text, keyboard). `BotHarness` builds the app with `assemble` (behind `build_application`),
exactly as production does, and feeds it `Update` objects.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, Update
from telegram.error import NetworkError
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

from bot.app import assemble, build_service
from bot.config import Settings

TOKEN = "123456789:TEST-token-abcdefghijklmnop"
BOT_USER = {
    "id": 123456789,
    "is_bot": True,
    "first_name": "ICP helper",
    "username": "icp_helper_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": True,
}


# Bot API method names are case-insensitive; calls are recorded under their documented spelling.
_METHODS = {name.lower(): name for name in dir(Bot) if name[:1].islower() and name != name.lower()}


def api_method(url_or_name: str) -> str:
    """The documented spelling ("sendMessage") of a method named in any case, from its URL or name."""
    name = url_or_name.rsplit("/", 1)[-1]
    return _METHODS.get(name.lower(), name)


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    result: Any = None

    @property
    def message_id(self) -> int | None:
        if isinstance(self.result, dict) and "message_id" in self.result:
            return int(self.result["message_id"])
        return None

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    @property
    def keyboard(self) -> list[list[dict[str, Any]]]:
        markup = self.params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        return (markup or {}).get("inline_keyboard", [])

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return [b for row in self.keyboard for b in row]


@dataclass
class RecordingRequest(BaseRequest):
    calls: list[Call] = field(default_factory=list)
    # method -> (status, description) to fail the next call of that method with
    failures: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(5000))
    record: bool = True  # keep every call (tests); benchmarks only count them
    count: int = 0
    forum: bool = False  # what getChat says of the staff group
    bot_member: dict[str, Any] = field(  # what getChatMember says of the bot in the staff group
        default_factory=lambda: {"status": "administrator", "can_manage_topics": True}
    )
    unreachable_chats: set[int] = field(default_factory=set)  # every call to these chats fails
    blocked_users: set[int] = field(default_factory=set)  # calls to these chats get 403
    _topics: itertools.count = field(default_factory=lambda: itertools.count(900))
    # Yield to the event loop on every call, as a real HTTP round trip does (concurrent benchmarks).
    suspend: bool = False
    # An outage of these methods: every call answers 502 Bad Gateway, or the connection drops.
    down: set[str] = field(default_factory=set)
    dropped: set[str] = field(default_factory=set)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    def fail_next(self, method: str, status: int = 400, description: str = "Bad Request: test failure") -> None:
        self.failures.setdefault(method, []).append((status, description))

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        if self.suspend:
            await asyncio.sleep(0)
        name = api_method(url)
        params = dict(request_data.parameters) if request_data is not None else {}
        if request_data is not None and request_data.multipart_data:  # an uploaded file: kept to look at
            params["_files"] = {k: (v[0], v[1]) for k, v in request_data.multipart_data.items()}
        chat = params.get("chat_id")
        if chat is not None and int(chat) in self.unreachable_chats:
            self.calls.append(Call(name, params, None))
            return 400, json.dumps(
                {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
            ).encode()
        if chat is not None and int(chat) in self.blocked_users:
            self.calls.append(Call(name, params, None))
            body = {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
            return 403, json.dumps(body).encode()
        if name in self.down:
            self.calls.append(Call(name, params, None))
            return 502, json.dumps({"ok": False, "error_code": 502, "description": "Bad Gateway"}).encode()
        if name in self.dropped:
            self.calls.append(Call(name, params, None))
            raise NetworkError("connection dropped")
        if self.failures.get(name):
            self.calls.append(Call(name, params, None))
            status, description = self.failures[name].pop(0)
            return status, json.dumps({"ok": False, "error_code": status, "description": description}).encode()
        result = self.result(name, params)
        self.count += 1
        if self.record:
            self.calls.append(Call(name, params, result))
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method in ("sendMessage", "editMessageText", "copyMessage", "sendDocument"):
            chat_id = int(params.get("chat_id", 0))
            message_id = int(params["message_id"]) if method == "editMessageText" else next(self._ids)
            if method == "copyMessage":
                return {"message_id": message_id}
            message = {
                "message_id": message_id,
                "date": int(time.time()),
                "text": params.get("text", ""),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                "from": BOT_USER,
            }
            if params.get("reply_markup"):
                markup = params["reply_markup"]
                message["reply_markup"] = json.loads(markup) if isinstance(markup, str) else markup
            return message
        if method == "getUpdates":
            return []
        if method == "getChat":
            return {
                "id": int(params["chat_id"]),
                "type": "supergroup",
                "title": "Support",
                "is_forum": self.forum,
                "accent_color_id": 0,
                "max_reaction_count": 11,
            }
        if method == "getChatMember":
            rights = dict.fromkeys(
                (
                    "can_be_edited",
                    "can_manage_chat",
                    "can_delete_messages",
                    "can_manage_video_chats",
                    "can_restrict_members",
                    "can_promote_members",
                    "can_change_info",
                    "can_invite_users",
                    "can_post_stories",
                    "can_edit_stories",
                    "can_delete_stories",
                    "is_anonymous",
                ),
                False,
            )
            return {**rights, "user": BOT_USER, **self.bot_member}
        if method == "createForumTopic":
            return {"message_thread_id": next(self._topics), "name": params.get("name", ""), "icon_color": 7322096}
        return True

    # --- queries for tests --------------------------------------------------------------------
    def to_chat(self, chat_id: int, methods: tuple[str, ...] = ("sendMessage", "editMessageText")) -> list[Call]:
        """Messages Telegram accepted for the chat (failed calls are recorded without a result)."""
        return [c for c in self.calls if c.method in methods and c.chat_id == chat_id and c.result is not None]

    def named(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]


UPDATE_IDS = itertools.count(1)


class UpdateFactory:
    def __init__(self) -> None:
        self._update_ids = UPDATE_IDS  # unique across harnesses, as Telegram's are
        self._message_ids = itertools.count(1)

    @staticmethod
    def user(user_id: int, lang: str | None) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
        if lang:
            user["language_code"] = lang
        return user

    def message(
        self,
        user_id: int,
        text: str | None = None,
        lang: str | None = "en",
        chat: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat or {"id": user_id, "type": "private", "first_name": f"User{user_id}"},
            "from": self.user(user_id, lang),
        }
        if text is not None:
            msg["text"] = text
            if text.startswith("/"):
                msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        msg.update(extra or {})
        return {"update_id": next(self._update_ids), "message": msg}

    def group_message(
        self,
        user_id: int,
        chat_id: int,
        text: str | None = None,
        thread_id: int | None = None,
        reply_to: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A message in a (staff) supergroup: in a forum topic, as a reply, or neither."""
        chat = {"id": chat_id, "type": "supergroup", "title": "Support", "is_forum": thread_id is not None}
        msg: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": self.user(user_id, "en"),
        }
        if text is not None:
            msg["text"] = text
            if text.startswith("/"):
                msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if thread_id is not None:
            msg["message_thread_id"] = thread_id
            msg["is_topic_message"] = True
        if reply_to is not None:
            msg["reply_to_message"] = {"message_id": reply_to, "date": int(time.time()), "chat": chat}
        msg.update(extra or {})
        return {"update_id": next(self._update_ids), "message": msg}

    def group_press(self, user_id: int, chat_id: int, data: str, message_id: int) -> dict[str, Any]:
        message = {
            "message_id": message_id,
            "date": int(time.time()),
            "text": "card",
            "chat": {"id": chat_id, "type": "supergroup", "title": "Support"},
            "from": BOT_USER,
        }
        query = {
            "id": str(next(self._update_ids) * 7919),
            "from": self.user(user_id, "en"),
            "chat_instance": str(chat_id),
            "data": data,
            "message": message,
        }
        return {"update_id": next(self._update_ids), "callback_query": query}

    def press(
        self, user_id: int, data: str, message_id: int = 1, lang: str | None = "en", message_text: str = "question"
    ) -> dict[str, Any]:
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": str(next(self._update_ids) * 7919),
                "from": self.user(user_id, lang),
                "chat_instance": str(user_id),
                "data": data,
                "message": {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "text": message_text,
                    "chat": {"id": user_id, "type": "private"},
                    "from": BOT_USER,
                },
            },
        }


class BotHarness:
    """An Application over a database, with a recording transport. Use as `async with`."""

    def __init__(self, database_url: str, request: RecordingRequest | None = None, **settings: Any) -> None:
        self.settings = Settings(
            telegram_bot_token=TOKEN,
            database_url=database_url,  # type: ignore[arg-type]
            telegram_max_rate=settings.pop("telegram_max_rate", 0),
            **settings,
        )
        self.request = request or RecordingRequest()
        self.updates = UpdateFactory()
        self.service = build_service(self.settings)
        self.parts = assemble(self.settings, request=self.request, service=self.service)
        self.app: Application = self.parts.app

    async def __aenter__(self) -> BotHarness:
        await self.app.initialize()
        assert self.app.post_init is not None
        await self.app.post_init(self.app)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.app.shutdown()
        if self.app.post_shutdown is not None:
            await self.app.post_shutdown(self.app)

    def errors(self) -> float:
        """How many updates failed in a handler (the error handler ran)."""
        return self.parts.metrics.registry.get_sample_value("icpbot_errors_total") or 0.0

    async def app_service_db_run(self, fn: Any, *args: Any) -> Any:
        """Run `fn(connection, *args)` on the bot's own database."""
        return await self.service.db.run(fn, *args)

    async def feed(self, data: dict[str, Any]) -> list[Call]:
        """Process one update; return the Bot API calls it caused."""
        before = len(self.request.calls)
        await self.app.process_update(Update.de_json(data, self.app.bot))
        return self.request.calls[before:]

    async def send(self, user_id: int, text: str, lang: str | None = "en") -> list[Call]:
        return await self.feed(self.updates.message(user_id, text, lang))

    async def press(
        self, user_id: int, data: str, lang: str | None = "en", message_id: int | None = None
    ) -> list[Call]:
        if message_id is None:
            message_id = self.last_screen(user_id).message_id
        return await self.feed(self.updates.press(user_id, data, message_id or 1, lang))

    async def tap(self, user_id: int, label: str, lang: str | None = "en") -> list[Call]:
        """Press the button labelled `label` (a ✓ mark is ignored) on the user's latest screen."""
        return await self.press(user_id, self.button(user_id, label), lang)

    def last_screen(self, user_id: int) -> Call:
        screens = [c for c in self.request.to_chat(user_id) if c.keyboard]
        assert screens, f"no screen with buttons was sent to {user_id}"
        return screens[-1]

    def button(self, user_id: int, label: str) -> str:
        buttons = self.last_screen(user_id).buttons
        for b in buttons:
            if b["text"].removeprefix("✓ ") == label:
                return str(b["callback_data"])
        raise AssertionError(f"no button {label!r} among {[b['text'] for b in buttons]}")
