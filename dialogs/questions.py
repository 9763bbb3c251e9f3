"""The question dialogs (/check, /filingtype, /steps): a command of each one's name, and their
buttons (answer, back, next, restart). The dialogs themselves are in check.py, filingtype.py,
steps.py (and codes.py for adding a code), run by dialogs/flow.py."""

from __future__ import annotations

from dialogs import actions
from dialogs.feature import CommandHandler, Feature, Flow
from dialogs.screens import Outcome
from dialogs.session import Session

COMMANDS = ("check", "ready", "filingtype", "steps")


def _starts(name: str) -> CommandHandler:
    def start(flow: Flow, session: Session, out: Outcome) -> None:
        flow.start_dialog(session, flow.dialogs[name], out, edit=False)

    return start


def _pressed(flow: Flow, session: Session, action: actions.InDialog, out: Outcome) -> None:
    dialog = flow.dialogs.get(action.dialog)
    if dialog is None:
        flow.stale(session, out)
        return
    flow.dialog_action(session, dialog, action, out)


FEATURE = Feature(
    "questions", commands={name: _starts(name) for name in COMMANDS}, buttons={actions.InDialog: _pressed}
)
