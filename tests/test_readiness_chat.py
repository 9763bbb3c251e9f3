"""Can I file? Through the real Application, after /check, in both languages: no ✅ while anything
that could stop the filing is known or unasked; Back, Skip and stale buttons."""

from __future__ import annotations

from tests.harness import BotHarness

USER = 5151


async def eligible_ecs(bot: BotHarness, lang: str = "en") -> list:
    labels = {
        "en": ["Chinese mainland", "Alibaba Cloud", "ECS", "Subscription", "6 months", "Yes"],
        "zh": ["中国内地", "阿里云", "云服务器 ECS", "包年包月", "6 个月", "是"],
    }[lang]
    await bot.send(USER, "/check", lang=lang)
    calls: list = []
    for label in labels:
        calls = await bot.tap(USER, label, lang=lang)
    return calls


ALL_FINE = [
    "China site (aliyun.com)",
    "Yes",
    "An individual",
    "No",
    "Yes",
    "Yes",
    "General",
    "No",
    "The account I file with",
]


async def answer(bot: BotHarness, labels: list[str], lang: str = "en") -> list:
    calls: list = []
    for label in labels:
        calls = await bot.tap(USER, label, lang=lang)
    return calls


async def test_the_server_verdict_shows_no_tick_and_leads_to_the_readiness_questions(bot: BotHarness) -> None:
    calls = await eligible_ecs(bot)
    verdict = calls[-1].text
    assert "✅" not in verdict and "this server can back an ICP filing" in verdict
    calls = await bot.tap(USER, "Can I file? What could stop me »")
    assert "China site (aliyun.com) or the International site" in calls[-1].text
    calls = await answer(bot, ALL_FINE)
    plan = calls[-1].text
    assert "✅ Nothing known stops your filing through Alibaba Cloud." in plan
    assert "Before filing:" in plan and "within 30 days after launching" in plan


async def test_a_known_blocker_is_shown_with_its_fix_and_no_tick(bot: BotHarness) -> None:
    await eligible_ecs(bot)
    await bot.tap(USER, "Can I file? What could stop me »")
    calls = await answer(bot, ["International site", *ALL_FINE[1:]])
    plan = calls[-1].text
    assert "✅" not in plan and "International Website accounts cannot file" in plan
    assert "What to do: File with an Alibaba Cloud China Website (aliyun.com) account" in plan


async def test_a_skipped_question_stays_not_checked(bot: BotHarness) -> None:
    await eligible_ecs(bot)
    await bot.tap(USER, "Can I file? What could stop me »")
    skipped = [*ALL_FINE[:4], "Skip (not sure)", *ALL_FINE[5:]]
    plan = (await answer(bot, skipped))[-1].text
    assert "✅" not in plan and "Not checked yet: reading and writing Chinese" in plan


async def test_back_stale_buttons_and_a_field_needing_pre_approval(bot: BotHarness) -> None:
    await eligible_ecs(bot)
    await bot.tap(USER, "Can I file? What could stop me »")
    await answer(bot, ALL_FINE[:2])
    old = bot.button(USER, "An individual")
    calls = await bot.tap(USER, "« Back")
    assert "identity verification" in calls[-1].text
    calls = await bot.press(USER, old)  # a button of a question no longer open
    assert any(c.method == "answerCallbackQuery" and c.params.get("text") for c in calls)
    await answer(bot, ["Yes", "An organization", "No", "Yes", "Yes", "Medical devices"])
    calls = await answer(bot, ["No", "No", "The account I file with"])
    assert "pre-approval, which is not obtained yet" in calls[-1].text


async def test_without_check_first_the_server_is_not_checked(bot: BotHarness) -> None:
    await bot.send(USER, "/ready")
    plan = (await answer(bot, ALL_FINE))[-1].text
    assert "✅" not in plan and "where the server is" in plan
    assert "Check my server »" in [b["text"] for b in bot.last_screen(USER).buttons]


async def test_in_chinese(bot: BotHarness) -> None:
    await eligible_ecs(bot, "zh")
    await bot.tap(USER, "我能备案吗？可能的障碍 »", lang="zh")
    labels = ["国际站", "是", "个人", "否", "是", "是", "一般内容", "否", "我用于备案的账号"]
    plan = (await answer(bot, labels, "zh"))[-1].text
    assert "国际站账号不能办理备案" in plan and "✅" not in plan


async def _to_ready(bot: BotHarness, labels: list[str]) -> list:
    await bot.send(USER, "/check")
    for label in labels:
        await bot.tap(USER, label)
    return await bot.send(USER, "/ready")


async def test_another_vendor_is_not_asked_the_accounts_questions(bot: BotHarness) -> None:
    """The filing is not made through Alibaba Cloud: the account's site, its verification, another
    entity, Chinese and whose server it is cannot change the plan, so they are not asked."""
    calls = await _to_ready(bot, ["Chinese mainland", "Another vendor / on-premises"])
    assert "individual or an organization" in calls[-1].text
    asked = [calls[-1].text]
    for label in ["An individual", "Yes", "General", "No"]:
        asked.append((await bot.tap(USER, label))[-1].text)
    plan = asked[-1]
    assert "Your filing plan" in plan and "Not checked yet" not in plan
    assert not any("aliyun.com" in text or "whose" in text.lower() for text in asked[:-1])


async def test_no_filing_needed_asks_nothing(bot: BotHarness) -> None:
    calls = await _to_ready(bot, ["Hong Kong (China)"])
    assert "No ICP filing is needed for this server." in calls[-1].text


async def test_cdn_is_asked_the_origin_and_not_whose_server_it_is(bot: BotHarness) -> None:
    calls = await _to_ready(bot, ["Chinese mainland", "Alibaba Cloud", "CDN"])
    texts = [calls[-1].text]
    for label in ["An individual", "Yes", "General", "No"]:
        texts.append((await bot.tap(USER, label))[-1].text)
    assert "origin" in texts[-1]  # the CDN's origin: the back-to-origin warning depends on it
    plan = (await bot.tap(USER, "On Alibaba Cloud"))[-1].text
    assert "add-as-a-new-access-provider process for the back-to-origin domain" in plan
    assert not any("The account I file with" in str(c.keyboard) for c in bot.request.to_chat(USER))
