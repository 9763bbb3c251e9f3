"""/forget deletes everything stored about the user, after confirmation, and nothing of anyone else."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, MetaData, func, inspect, select

from tests.harness import BotHarness
from tests.test_progress_reminders import advance
from tests.test_service_codes import add_code

USER, OTHER = 6060, 6161


def rows_about(conn: Connection, user_id: int) -> dict[str, int]:
    meta = MetaData()
    meta.reflect(conn)
    counts: dict[str, int] = {}
    for name in inspect(conn).get_table_names():
        table = meta.tables[name]
        if "user_id" in table.c:
            counts[name] = conn.execute(
                select(func.count()).select_from(table).where(table.c.user_id == user_id)
            ).scalar_one()
        elif name == "users":
            counts[name] = conn.execute(
                select(func.count()).select_from(table).where(table.c.id == user_id)
            ).scalar_one()
    counts["service_code_changes"] = conn.execute(
        select(func.count())
        .select_from(meta.tables["service_code_changes"])
        .join(meta.tables["service_codes"], isouter=True)
    ).scalar_one()
    return counts


async def fill(bot: BotHarness, user: int, lang: str = "en") -> None:
    await bot.send(user, "/check", lang=lang)
    await bot.send(user, "hello", lang=lang)
    if lang == "en":
        await add_code(bot, f"CODE-{user}-XYZW", user=user)
    else:
        await add_code(bot, f"CODE-{user}-XYZW", "云服务器 ECS", "i-zh", "免费", "本账号生成", lang="zh", user=user)
    await advance(bot, user, 5, lang=lang)


async def test_forget_leaves_nothing_behind(bot: BotHarness) -> None:
    await fill(bot, USER)
    before = await bot.app_service_db_run(rows_about, USER)
    assert before["users"] == 1 and before["turns"] > 5 and before["service_codes"] == 1 and before["reminders"] == 1
    calls = await bot.send(USER, "/forget")
    assert "cannot be undone" in calls[-1].text
    calls = await bot.tap(USER, "Yes, delete everything")
    assert "everything stored about you is deleted" in calls[-1].text
    after = await bot.app_service_db_run(rows_about, USER)
    assert after == {name: 0 for name in after}


async def test_forget_can_be_declined_and_spares_other_users(bot: BotHarness) -> None:
    await fill(bot, USER)
    await fill(bot, OTHER)
    await bot.send(USER, "/forget")
    calls = await bot.tap(USER, "No, keep it")
    assert "Nothing was deleted" in calls[-1].text
    assert (await bot.app_service_db_run(rows_about, USER))["service_codes"] == 1
    await bot.send(USER, "/forget")
    await bot.tap(USER, "Yes, delete everything")
    other = await bot.app_service_db_run(rows_about, OTHER)
    assert other["users"] == 1 and other["service_codes"] == 1 and other["reminders"] == 1


async def test_forget_in_chinese(bot: BotHarness) -> None:
    await fill(bot, USER, lang="zh")
    calls = await bot.send(USER, "/forget", lang="zh")
    assert "此操作无法撤销" in calls[-1].text
    calls = await bot.tap(USER, "是，全部删除", lang="zh")
    assert "关于您的全部数据已删除" in calls[-1].text
    after = await bot.app_service_db_run(rows_about, USER)
    assert after == {name: 0 for name in after}


@pytest.mark.parametrize("between", ["how long does the filing take?", "/help", "/myfiling", "/language"])
async def test_a_yes_typed_after_something_else_does_not_confirm_forget(bot: BotHarness, between: str) -> None:
    """'yes' typed at /forget's confirmation answers it; typed after anything else came in between
    (an FAQ answer asking "Did this help?", another screen), it deleted everything."""
    await add_code(bot, "CODE-KEEP-XYZW", user=USER)
    await bot.send(USER, "/forget")
    await bot.send(USER, between)
    calls = await bot.send(USER, "yes")
    assert not any("deleted" in c.text for c in calls)
    assert (await bot.app_service_db_run(rows_about, USER))["service_codes"] == 1


async def test_a_yes_typed_at_the_confirmation_still_confirms_it(bot: BotHarness) -> None:
    await add_code(bot, "CODE-GONE-XYZW", user=USER)
    await bot.send(USER, "/forget")
    calls = await bot.send(USER, "yes")
    assert "everything stored about you is deleted" in calls[-1].text
