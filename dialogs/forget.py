"""/forget: delete everything stored about the user, after confirmation (pressed or typed)."""

from __future__ import annotations

from dialogs import actions
from dialogs.effects import ForgetUser
from dialogs.feature import Feature, Flow
from dialogs.screens import Button, Outcome, Reply
from dialogs.session import Session
from dialogs.spec import confirmation_words
from knowledge.texts import t

SCREEN = "forget"  # the user is at the confirmation: "yes" or "no" typed answers it


def screen(flow: Flow, session: Session, edit: bool = False) -> Reply:
    lang = session.language
    buttons = (
        (
            Button(t(lang, "forget.yes"), actions.encode(actions.Forget("yes"))),
            Button(t(lang, "forget.no"), actions.encode(actions.Forget("no"))),
        ),
    )
    return Reply(t(lang, "forget.confirm"), buttons, edit, "forget.confirm")


def _confirm(flow: Flow, session: Session, out: Outcome) -> None:
    flow.show(session, SCREEN)  # the dialog the user was in stays "where I was"
    out.replies.append(screen(flow, session))


def _answered(flow: Flow, session: Session, action: actions.Forget, out: Outcome) -> None:
    lang = session.language
    if action.answer == "yes":
        out.effects.append(ForgetUser())
        session.forgotten = True
        out.replies.append(Reply(t(lang, "forget.done"), (), True, "forget.done"))
    else:
        kept(flow, session, out, edit=True)


def kept(flow: Flow, session: Session, out: Outcome, edit: bool = False) -> None:
    """Nothing deleted (No, or /cancel at the confirmation): the menu, with the way back."""
    flow.show(session, None)
    out.replies.append(flow.menu(session, t(session.language, "forget.kept"), edit=edit))


def _typed(_arg: str) -> dict[str, actions.Action]:
    return {word: actions.Forget(answer) for word, answer in confirmation_words().items()}


FEATURE = Feature(
    SCREEN,
    commands={"forget": _confirm},
    buttons={actions.Forget: _answered},
    screen=screen,
    at_screen=_typed,
)
