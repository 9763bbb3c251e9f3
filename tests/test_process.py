"""`python -m bot run` as a real process against a Bot API server at TELEGRAM_API_BASE_URL.

Killing the process (SIGKILL, no chance to clean up) mid-conversation loses no answer.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.fake_bot_api import FakeBotApi
from tests.harness import UpdateFactory

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "4242:process-test-token-xyz"
USER = 31337


def start_bot(api: FakeBotApi, db_path: Path, log_level: str = "WARNING") -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=api.base_url,
        DATABASE_URL=f"sqlite:///{db_path}",
        LOG_LEVEL=log_level,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def sent_to_user_containing(fragment: str):
    def predicate(method: str, params: dict) -> bool:
        return (
            method in ("sendMessage", "editMessageText")
            and int(params.get("chat_id", 0)) == USER
            and fragment in str(params.get("text", ""))
        )

    return predicate


def button(params: dict, label: str) -> str:
    markup = params["reply_markup"]
    return next(b["callback_data"] for row in markup["inline_keyboard"] for b in row if b["text"] == label)


def test_polling_process_serves_a_user_and_survives_sigkill(tmp_path: Path) -> None:
    factory = UpdateFactory()
    db = tmp_path / "bot.db"
    with FakeBotApi() as api:
        proc = start_bot(api, db)
        try:
            api.wait_for(lambda m, p: m == "setMyCommands")
            update = factory.message(USER, "/check")
            api.push(update)
            _, question = api.wait_for(sent_to_user_containing("Where is your server?"))
            press = factory.press(USER, button(question, "Chinese mainland"), message_id=700)
            api.push(press)
            _, provider = api.wait_for(sent_to_user_containing("Who provides the server?"))
            api.wait_confirmed(press["update_id"])
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)

        proc = start_bot(api, db, log_level="DEBUG")
        try:
            api.push(factory.press(USER, button(provider, "Alibaba Cloud"), message_id=700))
            api.wait_for(sent_to_user_containing("Which Alibaba Cloud product"))
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        log = proc.stderr.read() if proc.stderr else ""
        assert "Traceback" not in log
        assert "DEBUG" in log and TOKEN not in log and TOKEN.split(":")[1] not in log  # the token is never logged
