"""Typed words answer a code's delete confirmation only while it is the screen: after "No, keep
it" (pressed or typed), or another code opened, a later "ok" or "好" deleted the code kept."""

from __future__ import annotations

from sqlalchemy import Connection, select

from storage.models import ServiceCode
from tests.harness import BotHarness
from tests.test_service_codes import add_code

USER = 4400
CODE = "KEEPME-1234-ABCD"


def codes(conn: Connection) -> list[str]:
    return [c for (c,) in conn.execute(select(ServiceCode.c.code))]


async def test_no_pressed_then_ok_typed_deletes(bot: BotHarness) -> None:
    await add_code(bot, CODE, user=USER)
    await bot.send(USER, "/codes")
    await bot.tap(USER, f"{CODE} · Available")
    await bot.tap(USER, "🗑 Delete")
    await bot.tap(USER, "No, keep it")  # the user keeps it; the detail screen shows
    assert await bot.app_service_db_run(codes) == [CODE]
    calls = await bot.send(USER, "ok")  # an acknowledgement
    assert "Go on whenever you are ready" in calls[0].text
    assert await bot.app_service_db_run(codes) == [CODE], "deleted after the user said No"


async def test_no_typed_then_yes_typed_deletes(bot: BotHarness) -> None:
    await add_code(bot, CODE, user=USER)
    await bot.send(USER, "/codes")
    await bot.tap(USER, f"{CODE} · Available")
    await bot.tap(USER, "🗑 Delete")
    await bot.send(USER, "no")
    await bot.send(USER, "好")  # "ok" in Chinese
    assert await bot.app_service_db_run(codes) == [CODE], "deleted after the user said no"


async def test_other_code_opened_then_ok_deletes_the_first(bot: BotHarness) -> None:
    other = "OTHER-5678-WXYZ"
    await add_code(bot, CODE, user=USER)
    await add_code(bot, other, user=USER)
    await bot.send(USER, "/codes")
    list_msg = bot.last_screen(USER)
    ids = {b["text"].split(" · ")[0]: b["callback_data"] for b in list_msg.buttons if " · " in b["text"]}
    await bot.press(USER, ids[CODE])
    await bot.tap(USER, "🗑 Delete")  # asked about CODE ...
    calls = await bot.press(USER, ids[other], message_id=list_msg.message_id)  # ... but opens the other one instead
    assert other in calls[-1].text
    await bot.send(USER, "ok")  # "ok" while looking at the other code
    left = await bot.app_service_db_run(codes)
    assert CODE in left, f"the code the user walked away from was deleted: {left}"
