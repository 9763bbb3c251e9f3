"""A button's label typed instead of pressed: understood on the screen the user is at (any of its
buttons) and, for buttons that mean the same anywhere (the menu's entries, "Add a code", "Talk to
a person", the plan document), wherever the user is; case, emoji and marks ignored, in both
languages. Other text still goes to the FAQ."""

from __future__ import annotations

import pytest

from tests.harness import BotHarness
from tests.test_readiness_chat import ALL_FINE, USER, answer, eligible_ecs


async def test_add_a_code_typed_at_the_codes_screen_starts_adding_one(bot: BotHarness) -> None:
    await bot.send(USER, "/codes")
    calls = await bot.send(USER, "Add a code")
    assert "Send the service code" in calls[-1].text


async def test_a_menu_entry_typed_anywhere_opens_it_in_chinese_too(bot: BotHarness) -> None:
    await bot.send(USER, "/start", lang="zh")
    calls = await bot.send(USER, "添加服务码", lang="zh")
    assert "请发送服务码" in calls[-1].text
    await bot.send(USER, "/cancel", lang="zh")
    calls = await bot.send(USER, "我的备案进度", lang="zh")
    assert not [c for c in calls if "没有把握" in c.text]
    calls = await bot.send(USER, "MENU", lang="en")
    assert bot.last_screen(USER).keyboard  # the menu, not an FAQ miss
    assert not [c for c in calls if "not sure" in c.text]


async def test_a_label_of_the_result_screen_typed_without_its_emoji(bot: BotHarness) -> None:
    await eligible_ecs(bot)
    await bot.tap(USER, "Can I file? What could stop me »")
    await answer(bot, ALL_FINE)
    calls = await bot.send(USER, "my plan as a document (English + 中文)")
    assert [c for c in calls if c.method == "sendDocument"]
    calls = await bot.send(USER, "back")  # the plan's « Back: to the last question
    assert "The account I file with" in str(calls[-1].keyboard)


async def test_other_text_still_goes_to_the_faq(bot: BotHarness) -> None:
    await bot.send(USER, "/codes")
    calls = await bot.send(USER, "how many free service codes does an ECS instance get")
    assert "Send the service code" not in calls[-1].text
    assert any("service code" in c.text.lower() for c in calls)


@pytest.mark.parametrize(
    ("dialog_name", "question", "typed", "read"),
    [
        ("check", "bandwidth", "yes it has bandwidth", "yes"),
        ("filingtype", "entity_alibaba", "不是，我们之前没备过案", "no"),
        ("check", "bandwidth", "no idea", None),  # taken back
        ("check", "bandwidth", "yes and no", None),  # both
        ("check", "location", "china mainland users but the server is in hong kong", None),  # no yes/no question
        ("check", "product", "ecs and slb", None),
        # What may take a yes back leaves the question open (each was recorded as yes, and the plan
        # then said nothing stood in the way).
        ("ready", "identity_verified", "是，但还没实名认证", None),
        ("ready", "reads_chinese", "中文？一点都不懂", None),
        ("ready", "reads_chinese", "中文，不行", None),
        ("check", "bandwidth", "yes, but the bandwidth is 0 Mbps", None),
        ("ready", "domain_ready", "yes registered but not verified yet", None),
        ("check", "bandwidth", "yes? how do I check", None),
        ("check", "bandwidth", "有？怎么看", None),
        ("ready", "commercial", "免费，以后会收费", None),
        ("check", "bandwidth", "no problem, I have it", None),
        ("check", "bandwidth", "N/A", None),
        ("check", "bandwidth", "no not yet", "no"),  # a negation agrees with a no
    ],
)
def test_a_yes_or_no_followed_by_more_words(dialog_name: str, question: str, typed: str, read: str | None) -> None:
    from dialogs.registry import dialogs

    dialog = dialogs()[dialog_name]
    conv = dialog.new()
    conv.state = question
    assert dialog.match_typed(conv, typed) == read
