"""The conversation engine every feature shares: where the user is, the question dialogs, the menu.

A user has at most one active dialog (typed answers go to it) and remembers the last one (for
"Continue where I was"). Each dialog's state lives in the session's records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from dialogs import actions, menu
from dialogs.registry import dialogs, get
from dialogs.screens import LogEntry, Outcome, Reply
from dialogs.session import DialogRecord, Session
from dialogs.spec import Conversation, Dialog
from knowledge.service_codes import mask
from knowledge.texts import t

ScreenRenderer = Callable[["Flow", Session, bool], Reply]


class Flow:
    def __init__(self, staff_available: bool = True, screens: Mapping[str, ScreenRenderer] | None = None) -> None:
        self.dialogs: Mapping[str, Dialog[Any]] = dialogs()
        self.staff_available = staff_available  # a staff group is configured: a person can answer
        # Screens of features that are not dialogs (/codes, /progress, /myfiling), by feature name:
        # when the user is at one, it is "where they are" (shown again after a language change).
        self.screens: Mapping[str, ScreenRenderer] = screens or {}

    def conversation(self, session: Session, dialog: Dialog[Any]) -> Conversation[Any] | None:
        rec = session.records.get(dialog.name)
        return None if rec is None else dialog.load(rec.state, rec.answers, rec.history)

    def save(self, session: Session, dialog: Dialog[Any], conv: Conversation[Any]) -> None:
        rec = session.records.get(dialog.name)
        answers = conv.answers.model_dump(mode="json")
        if rec is None:
            session.records[dialog.name] = DialogRecord(conv.state, answers, list(conv.history), 0, True)
        else:
            rec.state, rec.answers, rec.history, rec.changed = conv.state, answers, list(conv.history), True

    def activate(self, session: Session, name: str | None) -> None:
        if session.active != name:
            session.active, session.changed = name, True
        dialog = get(name) if name is not None else None
        # "Continue where I was" leads back to a dialog with an open question, never to one that
        # only records something (adding a code): that would lose the place the user left.
        if dialog is not None and not dialog.leaves_when_done and session.last != name:
            session.last, session.changed = name, True

    def show(self, session: Session, screen: str | None) -> None:
        """The user is at a feature's screen (None: the menu); their dialog's place is kept as the
        last one for "Continue where I was"."""
        if session.active != screen:
            session.active, session.changed = screen, True

    def active(self, session: Session) -> tuple[Dialog[Any], Conversation[Any]] | None:
        """The dialog typed answers go to, and where it stands."""
        dialog = get(session.active) if session.active else None
        conv = self.conversation(session, dialog) if dialog else None
        return (dialog, conv) if dialog is not None and conv is not None else None

    def sensitive_question(self, session: Session) -> bool:
        """The user is at a question whose answer is masked in logs (a service code)."""
        dialog = get(session.active) if session.active else None
        rec = session.records.get(session.active or "")
        return bool(dialog and rec and dialog.is_sensitive(rec.state))

    def start_dialog(
        self, session: Session, dialog: Dialog[Any], out: Outcome, edit: bool, fresh: bool = False
    ) -> None:
        """Begin at the first question; earlier answers stay as marked defaults unless `fresh`."""
        conv = (None if fresh else self.conversation(session, dialog)) or dialog.new()
        conv.state, conv.history = dialog.initial, []
        dialog.begin(conv, session, self.dialogs)
        if not fresh:
            dialog.resume(conv)
        self.save(session, dialog, conv)
        self.activate(session, dialog.name)
        out.replies.append(dialog.render(conv, session.language, edit))

    def current_screen(self, session: Session, edit: bool = False) -> Reply:
        screen = self.screens.get((session.active or "").partition(":")[0])  # "codes:12": a screen of /codes
        if screen is not None:
            return screen(self, session, edit)
        where = self.active(session)
        if where is None:
            return self.menu(session, edit=edit)
        dialog, conv = where
        return dialog.render(conv, session.language, edit)

    def menu(self, session: Session, text: str | None = None, edit: bool = False) -> Reply:
        return menu.screen(session, text, edit)

    def stale(self, session: Session, out: Outcome) -> None:
        """A button that means nothing (any more): say so, and show the menu."""
        out.toast = t(session.language, "stale.gone")
        out.replies.append(self.menu(session))

    # --- a dialog's buttons and answers ------------------------------------------------------------
    def dialog_action(self, session: Session, dialog: Dialog[Any], act: actions.InDialog, out: Outcome) -> None:
        conv = self.conversation(session, dialog)
        if conv is None or conv.state != act.state:
            # A button from an older message: say so, and show where the user really is.
            out.toast = t(session.language, "stale.button")
            out.replies.append(self.current_screen(session))
            return
        if act.verb is actions.Verb.ANSWER:
            question = dialog.by_name.get(conv.state)
            if question is None or act.value not in question.options:
                out.toast = t(session.language, "stale.gone")
                out.replies.append(self.current_screen(session))
                return
            refused = dialog.refusal(conv, act.value, session.data, session.language)
            if refused is not None:  # the question stays open, with the reason (said once: no notice too)
                out.replies.append(Reply("⛔ " + refused, (), False, "hint.refused"))
                out.replies.append(dialog.render(conv, session.language))
                return
            self.answer(session, dialog, conv, act.value, out, edit=True)
            return
        if act.verb is actions.Verb.RESTART:  # the first question, as the dialog begins it; answers marked
            conv.state, conv.history = dialog.initial, []
            dialog.begin(conv, session, self.dialogs)
        else:
            dialog.fire(conv, act.verb.trigger)  # back / next; a move that does not apply leaves the state
        self.save(session, dialog, conv)
        self.activate(session, dialog.name)
        out.replies.append(dialog.render(conv, session.language, edit=True))

    def answer(
        self, session: Session, dialog: Dialog[Any], conv: Conversation[Any], value: Any, out: Outcome, edit: bool
    ) -> None:
        question = conv.state
        logged = mask(str(value)) if dialog.is_sensitive(question) else value
        dialog.answer(conv, value)
        at_screen = conv.state not in dialog.by_name
        if at_screen:
            out.effects += dialog.finish(conv, session.data, session.now)
        self.save(session, dialog, conv)
        self.activate(session, dialog.name)
        if at_screen and dialog.leaves_when_done:
            self.activate(session, None)
            if session.last == dialog.name:
                session.last, session.changed = None, True
        out.log.append(LogEntry("answer", dialog.name, {"question": question, "value": logged}))
        result = dialog.result_log(conv) if at_screen else None
        if result is not None:
            out.log.append(LogEntry("verdict", dialog.name, result))
        out.replies.append(dialog.render(conv, session.language, edit))
