"""Every screen and every option rendered in both languages, so that every text key the code uses,
including those built at run time (an option's label, a status, a stage, a reminder kind, a
verdict's reasons), exists: a missing one raises KeyError."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from dialogs import codes, progress
from dialogs.features import COMMANDS
from dialogs.flow import Flow
from dialogs.language import chooser
from dialogs.menu import screen as menu_screen
from dialogs.ports import CodeRecord, ProgressRecord
from dialogs.registry import dialogs
from dialogs.reminder_messages import render as reminder
from dialogs.router import Router
from dialogs.session import Command, Session
from dialogs.spec import Conversation, Dialog
from knowledge.domain import LANGUAGES, Language
from knowledge.progress import STAGES, ReminderKind
from knowledge.service_codes import CodeOrigin, CodeStatus
from knowledge.texts import t
from tests.test_effects import NOW, ReadOnly

pytestmark = pytest.mark.parametrize("lang", LANGUAGES)


def _walks(dialog: Dialog[Any]) -> list[Conversation[Any]]:
    """Every way through a dialog by its options, ending at a screen (steps: by `next`)."""
    done: list[Conversation[Any]] = []
    first = dialog.new()
    if dialog.name == "stagedate":  # what `begin` takes from the user's progress
        first.answers.stage, first.answers.today = "submitted", "2026-11-30"
    todo = [first]
    while todo:
        conv = todo.pop()
        question = dialog.by_name.get(conv.state)
        if question is None:
            done.append(conv)
            following = dialog.load(conv.state, conv.answers.model_dump(mode="json"), list(conv.history))
            if dialog.fire(following, "next"):  # an information screen with a next one
                todo.append(following)
            continue
        options = question.options or ("example",)
        if len(dialog.questions) > 6 and conv.history:  # many questions: vary one at a time (first: all)
            options = (options[0], options[-1]) if len(conv.history) % 2 else options[:1]
        for option in options:
            branch = dialog.load(conv.state, conv.answers.model_dump(mode="json"), list(conv.history))
            dialog.answer(branch, _typed(dialog, question.name, option))
            todo.append(branch)
    return done


def _typed(dialog: Dialog[Any], question: str, option: str) -> Any:
    if option == "example":  # a question answered only by typing (a service code, an instance)
        return "ABCD1234EFGH" if question == "code" else "i-abc"
    field = type(dialog.new().answers).model_fields[question].annotation
    return {"yes": True, "no": False}.get(option, option) if "bool" in str(field) else option


def test_every_question_and_option_of_every_dialog(lang: Language) -> None:
    for dialog in dialogs().values():
        for question in dialog.questions:
            for option in question.options:
                assert question.option_label(lang, option)
            conv = dialog.new()
            conv.state = question.name
            assert dialog.render(conv, lang).text


def test_every_end_screen_of_every_dialog(lang: Language) -> None:
    data = ReadOnly()
    for dialog in dialogs().values():
        for conv in _walks(dialog):
            dialog.finish(conv, data, NOW)
            reply = dialog.render(conv, lang)
            assert reply.text and reply.buttons, (dialog.name, conv.state)


def test_every_code_screen_for_every_status(lang: Language) -> None:
    for status, paid in itertools.product(CodeStatus, (False, True)):
        code = CodeRecord(1, "ABCD1234EFGH", "ecs", "i-abc", paid, CodeOrigin.AUTHORIZED, status)
        data = ReadOnly([code])
        assert codes.detail_screen(data, code, lang).text
        assert codes.list_screen(data, lang).text


def test_every_progress_screen_and_reminder(lang: Language) -> None:
    for stage, enabled in itertools.product(STAGES, (True, False)):
        record = ProgressRecord(stage, {s: NOW for s in STAGES[: STAGES.index(stage) + 1]}, enabled)
        assert progress.screen_of(record, lang).text
    for kind in ReminderKind:
        assert reminder(kind.value, {"since": NOW.isoformat()}, lang, NOW).text


def test_every_command_and_menu_screen(lang: Language) -> None:
    router = Router()
    for name in COMMANDS:
        assert t(lang, f"cmd.{name}")
        session = Session(1, lang, data=ReadOnly(), now=NOW)
        assert router.handle(session, Command(name)).replies
    session = Session(1, lang, last="check", now=NOW)
    Flow().start_dialog(session, dialogs()["check"], router.handle(session, Command("start")), edit=False)
    assert menu_screen(session).buttons and chooser(session).text


def test_help_lists_every_command_and_the_menu_reaches_every_feature(lang: Language) -> None:
    router = Router()
    session = Session(1, lang, data=ReadOnly(), now=NOW)
    help_text = router.handle(session, Command("help")).replies[0].text
    assert all(f"/{name} - " in help_text for name in COMMANDS)
    menu = [b.data for row in menu_screen(session).buttons for b in row]
    for data in ("m:check", "m:ready", "m:filingtype", "m:steps", "m:myfiling", "c:list", "p:show", "h:ask"):
        assert data in menu
