"""/forget: delete everything stored about the user, after confirmation."""

from __future__ import annotations

from dialogs import actions
from dialogs.effects import ForgetUser
from dialogs.feature import Feature, Flow
from dialogs.screens import Button, Outcome, Reply
from dialogs.session import Session
from knowledge.texts import t


def _confirm(flow: Flow, session: Session, out: Outcome) -> None:
    lang = session.language
    buttons = (
        (
            Button(t(lang, "forget.yes"), actions.encode(actions.Forget("yes"))),
            Button(t(lang, "forget.no"), actions.encode(actions.Forget("no"))),
        ),
    )
    out.replies.append(Reply(t(lang, "forget.confirm"), buttons, False, "forget.confirm"))


def _answered(flow: Flow, session: Session, action: actions.Forget, out: Outcome) -> None:
    lang = session.language
    if action.answer == "yes":
        out.effects.append(ForgetUser())
        session.forgotten = True
        out.replies.append(Reply(t(lang, "forget.done"), (), True, "forget.done"))
    else:
        out.replies.append(flow.menu(session, t(lang, "forget.kept"), edit=True))


FEATURE = Feature("forget", commands={"forget": _confirm}, buttons={actions.Forget: _answered})
