"""/language: English or 中文, for everything the bot says to this user from now on."""

from __future__ import annotations

from dialogs import actions
from dialogs.feature import Feature, Flow
from dialogs.screens import Button, Outcome, Reply
from dialogs.session import Session
from knowledge.texts import t


def chooser(session: Session, edit: bool = False) -> Reply:
    buttons = (
        Button("English", actions.encode(actions.SetLanguage("en"))),
        Button("中文", actions.encode(actions.SetLanguage("zh"))),
    )
    return Reply(t(session.language, "language.choose"), (buttons,), edit, "language")


def _command(flow: Flow, session: Session, out: Outcome) -> None:
    out.replies.append(chooser(session))


def _chosen(flow: Flow, session: Session, action: actions.SetLanguage, out: Outcome) -> None:
    if session.language != action.language:
        session.language, session.changed = action.language, True
    out.replies.append(Reply(t(session.language, "language.set"), (), True, "language.set"))
    out.replies.append(flow.current_screen(session))


# A language's name typed anywhere asks for it ("中文" where an answer was expected).
PHRASES: dict[str, actions.Action] = {
    **{name: actions.SetLanguage("zh") for name in ("中文", "简体中文", "汉语", "chinese")},
    **{
        name: actions.SetLanguage("en")
        for name in ("english", "英文", "英语", "english please", "in english", "speak english", "no chinese")
    },
}

FEATURE = Feature("language", commands={"language": _command}, buttons={actions.SetLanguage: _chosen}, phrases=PHRASES)
