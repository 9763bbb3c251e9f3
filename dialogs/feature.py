"""What a feature declares: the commands it answers and the buttons (actions) it handles.

dialogs/features.py lists every feature in one ordered place; the router only dispatches to them.
A handler gets the shared flow (`Flow`: where the user is, the dialogs, the menu), the session,
what was pressed (for a button) and the outcome to fill in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from dialogs.actions import Action, InDialog
from dialogs.ports import UserData
from dialogs.screens import Outcome, Reply
from dialogs.session import Session
from dialogs.spec import Conversation, Dialog


class Flow(Protocol):
    """What features share (implemented by dialogs/flow.py)."""

    dialogs: Mapping[str, Dialog[Any]]
    staff_available: bool

    def activate(self, session: Session, name: str | None) -> None: ...
    def save(self, session: Session, dialog: Dialog[Any], conv: Conversation[Any]) -> None: ...
    def show(self, session: Session, screen: str | None) -> None: ...
    def start_dialog(
        self, session: Session, dialog: Dialog[Any], out: Outcome, edit: bool, fresh: bool = False
    ) -> None: ...
    def current_screen(self, session: Session, edit: bool = False) -> Reply: ...
    def menu(self, session: Session, text: str | None = None, edit: bool = False) -> Reply: ...
    def stale(self, session: Session, out: Outcome) -> None: ...
    def dialog_action(self, session: Session, dialog: Dialog[Any], act: InDialog, out: Outcome) -> None: ...


def data(session: Session) -> UserData:
    """The turn's stored data (read-only); features that show stored data need it."""
    if session.data is None:
        raise RuntimeError("this feature needs the session's UserData")
    return session.data


def at_result(flow: Flow, session: Session, name: str) -> Any:
    """The dialog's result the user's answers lead to (also after Back, which keeps them), else None."""
    dialog, record = flow.dialogs.get(name), session.records.get(name)
    if dialog is None or record is None:
        return None
    return dialog.answered(dialog.load(record.state, record.answers, record.history))


CommandHandler = Callable[[Flow, Session, Outcome], None]
ButtonHandler = Callable[[Flow, Session, Any, Outcome], None]  # Any: the action type it is registered for


@dataclass(frozen=True)
class Feature:
    name: str
    commands: Mapping[str, CommandHandler] = field(default_factory=dict)
    buttons: Mapping[type[Action], ButtonHandler] = field(default_factory=dict)
    # Button labels (text keys) a user may type anywhere for the same action ("Add a code").
    typed: Mapping[str, Action] = field(default_factory=dict)
    # Words a user may type anywhere for an action, in any language, that are no label ("hi").
    phrases: Mapping[str, Action] = field(default_factory=dict)
    # The feature's own screen, when it has one the user stays at (not a dialog): shown again as
    # "where they are", e.g. after a language change.
    screen: Callable[[Flow, Session, bool], Reply] | None = None
    # Words typed while the user is at that screen that mean one of its buttons ("yes" at /forget's
    # confirmation), read before anything else the words could mean. A function of what follows ":"
    # in the screen's name ("codes:12": the code a confirmation is about; "" for none), called when
    # the user is there.
    at_screen: Callable[[str], Mapping[str, Action]] | None = None
