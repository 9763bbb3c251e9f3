"""User journeys through the real Application, asserting on the Bot API calls it makes."""

from __future__ import annotations

import asyncio
import warnings

import pytest

from dialogs.router import Router
from tests.harness import BotHarness

ALICE, BO = 1001, 2002


def texts(calls: list) -> str:
    return "\n".join(c.text for c in calls if c.method in ("sendMessage", "editMessageText"))


async def test_start_shows_menu_with_buttons(bot: BotHarness) -> None:
    calls = await bot.send(ALICE, "/start")
    [reply] = [c for c in calls if c.method == "sendMessage"]
    assert reply.chat_id == ALICE
    assert "ICP filing" in reply.text
    assert [b["callback_data"] for b in reply.buttons][:4] == ["m:check", "m:ready", "m:filingtype", "m:steps"]


async def test_english_eligibility_journey_by_buttons(bot: BotHarness) -> None:
    await bot.send(ALICE, "/check")
    assert "Where is your server?" in bot.last_screen(ALICE).text
    for label in ("Chinese mainland", "Alibaba Cloud", "ECS", "Subscription", "3 months"):
        calls = await bot.tap(ALICE, label)
        # each press is answered and the question message is edited in place
        assert [c.method for c in calls] == ["answerCallbackQuery", "editMessageText"]
    assert "public network bandwidth" in bot.last_screen(ALICE).text
    calls = await bot.tap(ALICE, "Yes")
    verdict = calls[-1].text
    assert verdict.startswith("ℹ️ Yes: this server can back an ICP filing")
    assert "3 months" in verdict and "5 free ICP filing service codes" in verdict
    assert "m:filingtype" in [b["callback_data"] for b in calls[-1].buttons]


async def test_replies_raise_no_warning(bot: BotHarness) -> None:
    """Replies go out through do_api_request under lower-case method names (the Bot API ignores
    case): python-telegram-bot has no warning to raise for them, which it did, and we filtered, on
    every reply."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        calls = await bot.send(ALICE, "/check")
        calls += await bot.tap(ALICE, "Chinese mainland")
    assert [c.method for c in calls] == ["sendMessage", "answerCallbackQuery", "editMessageText"]


async def test_chinese_journey_follows_telegram_language(bot: BotHarness) -> None:
    await bot.send(BO, "/check", lang="zh-hans")
    assert "您的服务器在哪里？" in bot.last_screen(BO).text
    await bot.tap(BO, "中国内地", lang="zh-hans")
    await bot.tap(BO, "阿里云", lang="zh-hans")
    await bot.tap(BO, "云服务器 ECS", lang="zh-hans")
    await bot.tap(BO, "包年包月", lang="zh-hans")
    await bot.tap(BO, "2 个月", lang="zh-hans")
    calls = await bot.tap(BO, "否", lang="zh-hans")
    verdict = calls[-1].text
    assert verdict.startswith("❌ 需要办理 ICP 备案")
    assert "累计购买时长只有 2 个月" in verdict and "尚未购买公网带宽" in verdict
    assert "请续费至累计 3 个月或以上" in verdict


async def test_outside_mainland_is_answered_at_once(bot: BotHarness) -> None:
    await bot.send(ALICE, "/check")
    calls = await bot.tap(ALICE, "Hong Kong (China)")
    assert "No ICP filing needed" in calls[-1].text


async def test_back_returns_to_previous_question_with_answer_marked(bot: BotHarness) -> None:
    await bot.send(ALICE, "/check")
    await bot.tap(ALICE, "Chinese mainland")
    await bot.tap(ALICE, "Alibaba Cloud")
    calls = await bot.tap(ALICE, "« Back")
    screen = calls[-1]
    assert "Who provides the server?" in screen.text
    assert "✓ Alibaba Cloud" in [b["text"] for b in screen.buttons]
    # change the answer: another vendor ends the check with the vendor verdict
    calls = await bot.tap(ALICE, "Another vendor / on-premises")
    assert "not through Alibaba Cloud" in calls[-1].text
    assert "Contact your server vendor" in calls[-1].text


async def test_back_from_verdict_then_change_answer(bot: BotHarness) -> None:
    await bot.send(ALICE, "/check")
    for label in ("Chinese mainland", "Alibaba Cloud", "Simple Application Server", "Subscription"):
        await bot.tap(ALICE, label)
    calls = await bot.tap(ALICE, "12 months")
    assert "5 free ICP filing service codes for a Simple Application Server instance" in calls[-1].text
    await bot.tap(ALICE, "« Back")
    calls = await bot.tap(ALICE, "1 month")
    assert "only a 1-month subscription in total" in calls[-1].text
    assert calls[-1].text.startswith("❌")


async def test_stale_button_is_answered_and_state_kept(bot: BotHarness) -> None:
    await bot.send(ALICE, "/check")
    first_question = bot.last_screen(ALICE)
    old_data = bot.button(ALICE, "Chinese mainland")
    await bot.tap(ALICE, "Chinese mainland")
    await bot.tap(ALICE, "Alibaba Cloud")
    # the same location button pressed again on the old message
    calls = await bot.press(ALICE, old_data.replace("mainland", "overseas"), message_id=first_question.message_id)
    answer = next(c for c in calls if c.method == "answerCallbackQuery")
    assert "earlier question" in answer.params["text"]
    assert "Which Alibaba Cloud product" in calls[-1].text  # still at the product question
    calls = await bot.tap(ALICE, "SLB")
    assert "backend" in calls[-1].text or "behind the SLB" in calls[-1].text


@pytest.mark.parametrize(
    "data",
    ["", "garbage", "d:check:location:a:moon", "d:nope:x:a", "m:nothing", "l:fr", "d:check:location:z:1", "x" * 64],
)
async def test_forged_callback_data_never_crashes(bot: BotHarness, data: str) -> None:
    await bot.send(ALICE, "/check")
    calls = await bot.press(ALICE, data)
    assert calls[0].method == "answerCallbackQuery"
    assert any(c.method == "sendMessage" and c.buttons for c in calls)


FORGED_NUMBERS = [
    "c:show:²",
    "c:show:99999999999999999999",
    "c:show:٣",
    "c:set:²:available:in_progress",
    "c:set:99999999999999999999:available:in_progress",
    "r:²:5",
    "r:99999999999999999999:5",
    "p:go:²:x",
    "q:fb:\x00:1",
    "c:show:\ud800",
]


@pytest.mark.parametrize("data", FORGED_NUMBERS)
async def test_forged_numbers_in_callback_data_are_refused_politely(database_url: str, data: str) -> None:
    async with BotHarness(database_url) as bot:
        await bot.send(ALICE, "/codes")
        calls = await bot.press(ALICE, data)
        assert bot.errors() == 0
        answer = next(c for c in calls if c.method == "answerCallbackQuery")
        assert answer.params.get("text")  # a toast says the button is not valid any more
        assert not any("something went wrong" in c.text for c in calls)


async def test_every_callback_query_is_answered(bot: BotHarness) -> None:
    await bot.send(ALICE, "/steps")
    presses = 0
    for _ in range(5):
        await bot.tap(ALICE, "Next »")
        presses += 1
    assert "Step 5 of 5" in bot.last_screen(ALICE).text
    await bot.tap(ALICE, "« Back")
    presses += 1
    assert "Step 4 of 5" in bot.last_screen(ALICE).text
    assert len(bot.request.named("answerCallbackQuery")) == presses


async def test_free_text_at_a_button_question_is_answered_or_the_question_repeated(bot: BotHarness) -> None:
    await bot.send(ALICE, "/check")
    calls = await bot.send(ALICE, "what is this?")
    sent = [c for c in calls if c.method == "sendMessage"]
    assert "not one of the answers below" in sent[0].text
    assert "Where is your server?" in sent[-1].text and sent[-1].buttons
    calls = await bot.send(ALICE, "How long does Alibaba Cloud's preliminary review take?")
    assert "1–2 business days" in calls[-1].text
    assert "Continue where I was" in [b["text"] for b in calls[-1].buttons]
    calls = await bot.tap(ALICE, "Continue where I was")
    assert "Where is your server?" in calls[-1].text


async def test_typed_label_and_typed_months_are_accepted(bot: BotHarness) -> None:
    await bot.send(ALICE, "/check")
    await bot.send(ALICE, "chinese mainland")
    await bot.send(ALICE, "alibaba cloud")
    await bot.send(ALICE, "ecs")
    await bot.send(ALICE, "subscription")
    calls = await bot.send(ALICE, "0")
    assert "from 1 to 999" in calls[0].text
    calls = await bot.send(ALICE, "18")
    assert "public network bandwidth" in calls[-1].text
    calls = await bot.send(ALICE, "yes")
    assert "18 months" in calls[-1].text and calls[-1].text.startswith("ℹ️ Yes")


async def test_filing_type_journey(bot: BotHarness) -> None:
    await bot.send(ALICE, "/filingtype")
    await bot.tap(ALICE, "No")  # not with Alibaba Cloud
    await bot.tap(ALICE, "Yes")  # has an MIIT record
    await bot.tap(ALICE, "Yes")  # site filed with MIIT
    calls = await bot.tap(ALICE, "No")  # server in another account
    result = calls[-1].text
    assert "Your filing type: add access" in result
    assert "enterprise account" in result and "does not change your domain registrar" in result


async def test_filing_type_chinese_first_filing_skips_questions(bot: BotHarness) -> None:
    await bot.send(BO, "/filingtype", lang="zh")
    await bot.tap(BO, "否", lang="zh")
    calls = await bot.tap(BO, "否", lang="zh")  # no MIIT record: the site question is skipped
    assert "同一个阿里云账号" in calls[-1].text
    calls = await bot.tap(BO, "是", lang="zh")
    assert "您的备案类型：首次备案" in calls[-1].text and "无需提前获取服务码" in calls[-1].text


async def test_language_switch_rerenders_current_question(bot: BotHarness) -> None:
    await bot.send(ALICE, "/check")
    await bot.send(ALICE, "/language")
    calls = await bot.tap(ALICE, "中文")
    assert "从现在起我将使用中文" in texts(calls)
    assert "您的服务器在哪里？" in calls[-1].text


async def test_cancel_keeps_answers_and_resume_continues(bot: BotHarness) -> None:
    await bot.send(ALICE, "/check")
    await bot.tap(ALICE, "Chinese mainland")
    calls = await bot.send(ALICE, "/cancel")
    assert "Stopped" in calls[-1].text
    calls = await bot.tap(ALICE, "Continue where I was")
    assert "Who provides the server?" in calls[-1].text


async def test_reset_clears_answers(bot: BotHarness) -> None:
    await bot.send(ALICE, "/check")
    await bot.tap(ALICE, "Chinese mainland")
    await bot.send(ALICE, "/reset")
    calls = await bot.send(ALICE, "/check")
    assert not any(b["text"].startswith("✓") for b in calls[-1].buttons)


async def test_unknown_command_and_sticker_get_polite_answers(bot: BotHarness) -> None:
    calls = await bot.send(ALICE, "/frobnicate")
    assert "don't know that command" in calls[-1].text
    sticker = {
        "sticker": {
            "file_id": "x",
            "file_unique_id": "y",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
        }
    }
    calls = await bot.feed(bot.updates.message(ALICE, None, extra=sticker))
    assert "only read text" in calls[0].text


async def test_group_messages_are_ignored(bot: BotHarness) -> None:
    group = {"id": -100123, "type": "supergroup", "title": "somewhere"}
    calls = await bot.feed(bot.updates.message(ALICE, "/check", chat=group))
    assert calls == []


async def test_second_application_continues_the_conversation(sqlite_url: str) -> None:
    """A restart loses nothing: a new Application over the same database picks up mid-dialog."""
    async with BotHarness(sqlite_url) as first:
        await first.send(ALICE, "/check")
        await first.tap(ALICE, "Chinese mainland")
        await first.tap(ALICE, "Alibaba Cloud")
        product_screen = first.last_screen(ALICE)
    async with BotHarness(sqlite_url) as second:
        ecs = next(b["callback_data"] for b in product_screen.buttons if b["text"] == "ECS")
        calls = await second.press(ALICE, ecs, message_id=product_screen.message_id)
        assert "How is the server billed?" in calls[-1].text
        calls = await second.send(ALICE, "/start")
        assert "Continue where I was" in [b["text"] for b in calls[-1].buttons]


async def test_handler_error_tells_user_and_keeps_their_place(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await bot.send(ALICE, "/check")
    await bot.tap(ALICE, "Chinese mainland")
    real_handle = Router.handle

    def broken(self: Router, session: object, event: object) -> object:
        raise RuntimeError("a bug in a feature")

    monkeypatch.setattr(Router, "handle", broken)
    alibaba = bot.button(ALICE, "Alibaba Cloud")
    calls = await bot.press(ALICE, alibaba)
    assert "something went wrong" in calls[-1].text and calls[-1].buttons[0]["callback_data"] == "h:error"
    assert "RuntimeError: a bug in a feature" in caplog.text and "Traceback" in caplog.text
    monkeypatch.setattr(Router, "handle", real_handle)
    # nothing of the failed turn was kept: the same button works now
    calls = await bot.press(ALICE, alibaba, message_id=1)
    assert "Which Alibaba Cloud product" in calls[-1].text


async def test_a_photos_caption_is_read_and_the_photo_said_to_be_unseen(bot: BotHarness) -> None:
    photo = {"photo": [{"file_id": "p1", "file_unique_id": "u1", "width": 10, "height": 10}]}
    calls = await bot.feed(bot.updates.message(ALICE, None, extra=photo | {"caption": "how long does the review take"}))
    texts = [c.text for c in calls if c.method == "sendMessage"]
    assert "I cannot see what is attached" in texts[0] and "business days" in " ".join(texts[1:])
    calls = await bot.feed(bot.updates.message(ALICE, None, extra=photo))  # no caption: nothing to read
    assert "I can only read text" in calls[0].text


async def test_the_error_message_is_in_the_language_the_user_chose(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await bot.send(ALICE, "/start", lang="zh-hans")
    await bot.send(ALICE, "English", lang="zh-hans")  # a Chinese Telegram, English chosen in the bot
    assert "What would you like to do?" in (await bot.send(ALICE, "/menu", lang="zh-hans"))[-1].text

    def broken(self: Router, session: object, event: object) -> object:
        raise RuntimeError("a bug in a feature")

    monkeypatch.setattr(Router, "handle", broken)
    calls = await bot.send(ALICE, "/check", lang="zh-hans")
    assert "something went wrong" in calls[-1].text and calls[-1].buttons[0]["text"] == "🙋 Talk to a person"


async def test_a_reply_telegram_keeps_refusing_is_sent_later_not_called_an_error(bot: BotHarness) -> None:
    await bot.send(ALICE, "/check")
    await bot.tap(ALICE, "Chinese mainland")
    for _ in range(4):  # more than the network retries absorb
        bot.request.fail_next("editMessageText", 500, "Internal Server Error")
    calls = await bot.tap(ALICE, "Alibaba Cloud")
    assert not any("something went wrong" in c.text for c in calls)
    await asyncio.sleep(0.6)  # the first retry is due 0.5 s later
    assert await bot.parts.sender.retry_due(bot.app.bot) == 1
    assert "Which Alibaba Cloud product" in bot.request.to_chat(ALICE)[-1].text


async def test_edit_not_possible_falls_back_to_a_new_message(bot: BotHarness) -> None:
    await bot.send(ALICE, "/check")
    bot.request.fail_next("editMessageText", 400, "Bad Request: message can't be edited")
    calls = await bot.tap(ALICE, "Chinese mainland")
    assert calls[-1].method == "sendMessage" and "Who provides the server?" in calls[-1].text


async def test_set_my_commands_failure_is_not_fatal(sqlite_url: str) -> None:
    harness = BotHarness(sqlite_url)
    harness.request.fail_next("setMyCommands", 400, "Bad Request: commands are broken")
    async with harness:
        calls = await harness.send(ALICE, "/start")
        assert calls[-1].method == "sendMessage"


async def test_commands_published_in_both_languages(bot: BotHarness) -> None:
    published = bot.request.named("setMyCommands")
    assert {c.params.get("language_code") for c in published} == {None, "zh"}
    zh = next(c for c in published if c.params.get("language_code") == "zh")
    assert {"command": "check", "description": "我的服务器能用于备案吗？"} in zh.params["commands"]


async def test_rate_limiter_is_installed_by_default(sqlite_url: str) -> None:
    from telegram.ext import AIORateLimiter

    harness = BotHarness(sqlite_url, telegram_max_rate=30)
    assert isinstance(harness.app.bot.rate_limiter, AIORateLimiter)


async def test_a_transient_network_error_is_retried(bot: BotHarness) -> None:
    await bot.send(ALICE, "/check")
    bot.request.fail_next("editMessageText", 502, "Bad Gateway")
    calls = await bot.tap(ALICE, "Chinese mainland")
    edits = [c for c in calls if c.method == "editMessageText"]
    assert len(edits) == 2 and edits[0].result is None and "Who provides the server?" in edits[1].text


async def test_edited_message_gets_a_polite_answer(bot: BotHarness) -> None:
    update = bot.updates.message(ALICE, "/check")
    update["edited_message"] = update.pop("message")
    update["edited_message"]["edit_date"] = update["edited_message"]["date"]
    calls = await bot.feed(update)
    assert [c.text for c in calls] == ["I only read new messages, not edits. Please send it again as a new message."]


def _edited(bot: BotHarness, user: int, text: str, lang: str | None) -> dict[str, object]:
    update = bot.updates.message(user, text, lang=lang)
    update["edited_message"] = update.pop("message")
    update["edited_message"]["edit_date"] = update["edited_message"]["date"]
    return update


async def test_an_edited_message_is_answered_in_the_language_the_user_chose(bot: BotHarness) -> None:
    """The answer to an edit is in the language chosen in the bot, not the Telegram app's."""
    await bot.send(ALICE, "/language", lang="en")
    await bot.tap(ALICE, "中文")
    calls = await bot.feed(_edited(bot, ALICE, "hello", "en"))
    assert [c.text for c in calls if c.method == "sendMessage"] == [
        "我只读取新消息，不读取修改后的消息。请重新发送一条新消息。"
    ]


async def test_an_edited_message_is_answered_once_the_bot_api_is_back(bot: BotHarness) -> None:
    """Its answer is owed like any reply: kept in the outbox through an outage, sent once after it."""
    bot.request.down.add("sendMessage")
    await bot.feed(_edited(bot, ALICE, "hello", "en"))
    bot.request.down.clear()
    await asyncio.sleep(0.6)  # the first retry is due 0.5 s after a failure
    assert await bot.parts.sender.retry_due(bot.app.bot) == 1
    sent = [c.text for c in bot.request.to_chat(ALICE) if c.result is not None]
    assert sent == ["I only read new messages, not edits. Please send it again as a new message."]
