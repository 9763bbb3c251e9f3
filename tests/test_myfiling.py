"""/myfiling through the real Application: where the filing stands and the one next action."""

from __future__ import annotations

from tests.harness import BotHarness
from tests.test_progress_reminders import advance
from tests.test_readiness_chat import ALL_FINE, USER, answer, eligible_ecs
from tests.test_service_codes import add_code


async def test_a_new_user_is_told_to_check_the_server_first(bot: BotHarness) -> None:
    calls = await bot.send(USER, "/myfiling")
    text = calls[-1].text
    assert "Server: not checked yet" in text and text.endswith("Next: Check my server")
    calls = await bot.tap(USER, "Do it now »")
    assert "Where is your server?" in calls[-1].text


async def test_everything_on_one_screen(bot: BotHarness) -> None:
    await eligible_ecs(bot)
    await bot.tap(USER, "Can I file? What could stop me »")
    await answer(bot, ALL_FINE)
    await bot.send(USER, "/filingtype")
    await answer(bot, ["No", "No", "Yes"])
    await add_code(bot, "ABCDEFGH1234", user=USER)
    await advance(bot, USER, 1)  # the order is submitted
    await bot.send(USER, "/start")
    calls = await bot.tap(USER, "My filing")
    text = calls[-1].text
    assert "Server: Yes: this server can back an ICP filing" in text
    assert "Can I file: nothing known stops it" in text
    assert "Filing type: first-time filing" in text
    assert "Service codes: 1" in text and "ABCDEFGH1234" in text  # in the user's own chat: in full
    assert "Progress: Order submitted" in text and "(dates in China time)" in text
    assert "Next: Your order is submitted. Alibaba Cloud's preliminary review starts next." in text


async def test_a_known_blocker_is_the_next_action(bot: BotHarness) -> None:
    await eligible_ecs(bot)
    await bot.tap(USER, "Can I file? What could stop me »")
    await answer(bot, ["International site", *ALL_FINE[1:]])
    text = (await bot.send(USER, "/myfiling"))[-1].text
    assert "Can I file: 1 thing stops it now" in text
    assert "Next: File with an Alibaba Cloud China Website (aliyun.com) account" in text


async def test_a_submitted_order_leads_past_a_known_blocker(bot: BotHarness) -> None:
    """The blocker stays as a fact; the next step is the one /progress shows."""
    await eligible_ecs(bot)
    await bot.tap(USER, "Can I file? What could stop me »")
    await answer(bot, ["International site", *ALL_FINE[1:]])
    await advance(bot, USER, 2)  # the preliminary review runs
    calls = await bot.send(USER, "/myfiling")
    text = calls[-1].text
    assert "Can I file: 1 thing stops it now" in text
    assert "Next: Alibaba Cloud is reviewing your application" in text
    assert "Next: File with an Alibaba Cloud China Website" not in text
    assert calls[-1].buttons[0]["text"] == "My filing progress"


async def test_in_chinese(bot: BotHarness) -> None:
    text = (await bot.send(USER, "/myfiling", lang="zh"))[-1].text
    assert "服务器：尚未检查" in text and "下一步：" in text


async def test_no_next_step_is_pushed_when_no_filing_is_needed(bot: BotHarness) -> None:
    await bot.send(USER, "/check")
    await bot.tap(USER, "Hong Kong (China)")
    text = (await bot.send(USER, "/myfiling"))[-1].text
    assert "Server: No ICP filing needed" in text and "Next:" not in text
