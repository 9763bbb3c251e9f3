"""Rough edges a new user met, each fixed and kept fixed: ways out typed at any question, a code's
record deleted, /forget answered in words, typed answers in other words (the conversations
themselves are in tests/scenarios/regressions.yaml)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, func, select

from dialogs import actions
from dialogs.effects import DeleteCode, ForgetUser
from dialogs.registry import dialogs
from dialogs.router import Router
from dialogs.session import Command, DialogRecord, Press, Session, Text
from dialogs.spec import InvalidTypedAnswer
from storage.models import ServiceCode, ServiceCodeChange
from tests.harness import BotHarness
from tests.test_effects import CODE, ReadOnly
from tests.test_service_codes import add_code

QUESTIONS = [(d.name, q.name) for d in dialogs().values() for q in d.questions]


def at_question(dialog_name: str, question: str, lang: str = "en") -> Session:
    """A user at one question of a dialog, as if they had walked there."""
    dialog = dialogs()[dialog_name]
    conv = dialog.new()
    conv.state = question
    session = Session(1, lang, data=ReadOnly([CODE]))  # type: ignore[arg-type]
    session.records[dialog_name] = DialogRecord(conv.state, conv.answers.model_dump(mode="json"), [], 0)
    session.active = dialog_name
    return session


@pytest.mark.parametrize(("dialog_name", "question"), QUESTIONS)
@pytest.mark.parametrize("typed", ["cancel", "Stop!", "never mind", "取消", "算了"])
def test_a_word_for_cancel_at_any_question_stops_it(dialog_name: str, question: str, typed: str) -> None:
    session = at_question(dialog_name, question)
    out = Router().handle(session, Text(typed))
    assert session.active is None, f"{typed!r} left the user in {dialog_name}.{question}"
    assert session.records[dialog_name].state == question  # nothing answered
    assert not out.effects and out.replies[-1].screen == "menu"


@pytest.mark.parametrize(("dialog_name", "question"), QUESTIONS)
@pytest.mark.parametrize("typed", ["back", "返回", "上一步"])
def test_a_word_for_back_at_any_question_is_its_back_button(dialog_name: str, question: str, typed: str) -> None:
    session = at_question(dialog_name, question)
    dialog = dialogs()[dialog_name]
    back = dialog.back_button(question, 0, "en")  # the first question's: it leaves the dialog
    out = Router().handle(session, Text(typed))
    assert session.records[dialog_name].state == question and not out.effects
    expected = actions.decode(back.data)
    if isinstance(expected, actions.CodeList):
        assert out.replies[-1].screen == "codes.list"
    elif isinstance(expected, actions.ProgressShow):
        assert out.replies[-1].screen == "progress"
    else:
        assert out.replies[-1].screen == "menu"


def test_a_word_for_back_after_a_question_goes_one_question_back() -> None:
    router, session = Router(), Session(1, "en")  # type: ignore[arg-type]
    router.handle(session, Command("check"))
    router.handle(session, Text("Chinese mainland"))
    router.handle(session, Text("go back"))
    assert session.active == "check" and session.records["check"].state == "location"


@pytest.mark.parametrize("typed", ["code with spaces", "hi", "abc12", "X" * 65])
def test_what_cannot_be_a_code_and_asks_nothing_is_still_refused(typed: str) -> None:
    dialog = dialogs()["addcode"]
    conv = dialog.new()
    with pytest.raises(InvalidTypedAnswer):
        dialog.match_typed(conv, typed)


def test_a_question_at_the_code_question_is_answered_or_said_not_understood_never_recorded() -> None:
    dialog = dialogs()["addcode"]
    conv = dialog.new()
    assert dialog.match_typed(conv, "where do I find my service code?") is None  # for the FAQ
    assert dialog.match_typed(conv, "Hello, could you tell me where exactly I can find the service code?") is None
    with pytest.raises(InvalidTypedAnswer) as refused:  # a question the FAQ cannot answer: no miss recorded
        dialog.match_typed(conv, "is ABCD-1234-EFGH the right one for my blog?")
    assert refused.value.key == "addcode.not_understood"
    assert dialog.match_typed(conv, "ABCD-1234-EFGH") == "ABCD-1234-EFGH"


@pytest.mark.parametrize("typed", ["yes", "是的", "是", "确定"])
def test_yes_deletes_everything_only_at_the_forget_confirmation(typed: str) -> None:
    router, session = Router(), Session(1, "zh" if not typed.isascii() else "en")  # type: ignore[arg-type]
    assert not any(isinstance(e, ForgetUser) for e in router.handle(session, Text(typed)).effects)  # at the menu
    router.handle(session, Command("forget"))
    router.handle(session, Command("check"))  # went on to something else
    assert not any(isinstance(e, ForgetUser) for e in router.handle(session, Text(typed)).effects)
    router.handle(session, Command("forget"))
    assert any(isinstance(e, ForgetUser) for e in router.handle(session, Text(typed)).effects)


@pytest.mark.parametrize("typed", ["no", "不", "取消", "cancel"])
def test_no_at_the_forget_confirmation_keeps_everything_and_leads_back(typed: str) -> None:
    router, session = Router(), Session(1, "en")  # type: ignore[arg-type]
    router.handle(session, Command("check"))
    router.handle(session, Command("forget"))
    out = router.handle(session, Text(typed))
    assert not out.effects and session.active is None and session.last == "check"
    assert "Nothing was deleted." in out.replies[-1].text


def test_cancel_at_the_forget_confirmation_keeps_everything() -> None:
    router, session = Router(), Session(1, "en")  # type: ignore[arg-type]
    router.handle(session, Command("forget"))
    out = router.handle(session, Command("cancel"))
    assert not out.effects and "Nothing was deleted." in out.replies[-1].text


@pytest.mark.parametrize(
    ("dialog_name", "question", "typed", "option"),
    [
        ("check", "billing", "subscripton", "subscription"),
        ("check", "billing", "Pay as you og", "pay-as-you-go"),
        ("check", "months", "5.", 5),
        ("check", "months", "12 months.", 12),
        ("check", "months", "6个月。", 6),
        ("check", "product", "轻量", "sas"),
        ("addcode", "product", "轻量", "sas"),
        ("addcode", "paid", "不收费", "free"),
        ("ready", "commercial", "不收费", "no"),
        ("ready", "entity", "business", "organization"),
        ("ready", "entity", "company", "organization"),
        ("ready", "entity", "organisation", "organization"),
        ("ready", "account_site", "国内站", "china"),
        ("ready", "server_account", "自己的", "same"),
        ("ready", "server_account", "我自己的账号", "same"),
    ],
)
def test_typed_answers_in_other_words(dialog_name: str, question: str, typed: str, option: Any) -> None:
    dialog = dialogs()[dialog_name]
    conv = dialog.new()
    conv.state = question
    assert str(dialog.match_typed(conv, typed)) == str(option)


@pytest.mark.parametrize(
    ("dialog_name", "question", "typed"),
    [
        ("check", "bandwidth", "yet"),  # short words are words of their own, not misspellings
        ("ready", "identity_verified", "nopr nopr"),
        ("check", "location", "overseasx mainlandx"),
        ("check", "months", "2.5."),  # refused with the months hint, as before
    ],
)
def test_a_typo_is_read_only_when_it_is_close_to_one_option(dialog_name: str, question: str, typed: str) -> None:
    dialog = dialogs()[dialog_name]
    conv = dialog.new()
    conv.state = question
    try:
        value = dialog.match_typed(conv, typed)
    except InvalidTypedAnswer:
        value = None
    assert value is None


def test_deleting_a_code_is_an_effect_and_the_list_shows_without_it() -> None:
    router = Router()
    session = Session(1, "en", data=ReadOnly([CODE]))  # type: ignore[arg-type]
    asked = router.handle(session, Press(actions.encode(actions.CodeDelete(CODE.id))))
    assert not asked.effects and "changes nothing at Alibaba Cloud" in asked.replies[-1].text
    done = router.handle(session, Press(actions.encode(actions.CodeDelete(CODE.id, "y"))))
    assert done.effects == [DeleteCode(CODE.id)]
    assert CODE.code not in done.replies[-1].text and "Deleted my record of ****EFGH" in done.replies[-1].text


def _rows(conn: Connection) -> dict[str, int]:
    return {
        "codes": conn.execute(select(func.count()).select_from(ServiceCode)).scalar_one(),
        "changes": conn.execute(select(func.count()).select_from(ServiceCodeChange)).scalar_one(),
    }


async def _code_ids(bot: BotHarness, user: int) -> dict[str, int]:
    calls = await bot.send(user, "/codes")
    return {
        b["text"].split(" · ")[0]: int(b["callback_data"].split(":")[2])
        for b in calls[-1].buttons
        if b["callback_data"].startswith("c:show:")
    }


async def test_deleting_a_code_removes_its_record_and_history_and_nothing_else(bot: BotHarness) -> None:
    owner, other = 5151, 5252
    await add_code(bot, "KEEP-1111-AAAA", user=owner)
    await add_code(bot, "DROP-2222-BBBB", user=owner)
    await add_code(bot, "THEIRS-3333-CCCC", user=other)
    ids = await _code_ids(bot, owner)
    await bot.press(owner, f"c:set:{ids['DROP-2222-BBBB']}:available:in_progress")  # a history of two rows
    before = await bot.app_service_db_run(_rows)
    assert before == {"codes": 3, "changes": 4}

    theirs = (await _code_ids(bot, other))["THEIRS-3333-CCCC"]
    calls = await bot.press(owner, f"c:del:{theirs}:y")  # another user's code: not reachable
    assert "no longer recorded" in next(c for c in calls if c.method == "answerCallbackQuery").params["text"]
    assert await bot.app_service_db_run(_rows) == before

    await bot.press(owner, f"c:del:{ids['DROP-2222-BBBB']}")  # asked, not done
    assert await bot.app_service_db_run(_rows) == before
    await bot.press(owner, f"c:del:{ids['DROP-2222-BBBB']}:y")
    assert await bot.app_service_db_run(_rows) == {"codes": 2, "changes": 2}
    assert set(await _code_ids(bot, owner)) == {"KEEP-1111-AAAA"}
    assert set(await _code_ids(bot, other)) == {"THEIRS-3333-CCCC"}

    calls = await bot.press(owner, f"c:del:{ids['DROP-2222-BBBB']}:y")  # pressed again: already gone
    assert "no longer recorded" in next(c for c in calls if c.method == "answerCallbackQuery").params["text"]
    assert bot.errors() == 0
