"""One turn of a user's conversation: (session, event) -> outcome. Pure: no I/O.

The caller loads the `Session` from storage, calls `Router.handle`, persists what changed
(the records flagged `changed`, the log entries) and then shows the replies. The same router
serves Telegram, the terminal chat and the tests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dialogs import actions, codes, faq_answers, progress
from dialogs.effects import EndTicket, ForgetUser, OpenTicket, QueueRelay, RateTicket
from dialogs.ports import UserData
from dialogs.registry import dialogs, get
from dialogs.screens import Button, LogEntry, Outcome, Reply
from dialogs.session import Command, DialogRecord, Event, Press, Session, SupportClosed, Text, Unsupported
from dialogs.spec import Conversation, Dialog, InvalidTypedAnswer
from knowledge.service_codes import mask
from knowledge.texts import t

# Commands a user can send; also the order of the Telegram command menu.
COMMANDS = (
    "start",
    "check",
    "filingtype",
    "steps",
    "codes",
    "progress",
    "human",
    "language",
    "cancel",
    "reset",
    "forget",
    "help",
)
# Dialogs started by a command (and a menu entry) of their own name.
DIALOG_COMMANDS = ("check", "filingtype", "steps")


# Called with free text that answers no question; returns an outcome, or None to fall back
# to the hint. The FAQ plugs in here.
FreeTextHook = Callable[[Session, str], Outcome | None]


class Router:
    def __init__(self, free_text_hook: FreeTextHook | None = None) -> None:
        self.free_text_hook = free_text_hook
        self.dialogs = dialogs()

    # --- entry point ------------------------------------------------------------------------
    def handle(self, session: Session, event: Event) -> Outcome:
        out = Outcome()
        if isinstance(event, SupportClosed):
            self._support_closed(session, event, out)
        elif session.ticket_id is not None:
            self._during_handoff(session, event, out)
        else:
            self._route(session, event, out)
        for reply in out.replies:
            out.log.append(LogEntry("bot", session.active, {"screen": reply.screen}))
        return out

    def _route(self, session: Session, event: Event, out: Outcome) -> None:
        match event:
            case Command(name=name):
                out.log.append(LogEntry("user", session.active, {"command": name}))
                self._command(session, name, out)
            case Press(data=data):
                out.log.append(LogEntry("user", session.active, {"press": data}))
                self._press(session, data, out)
            case Text(text=text):
                shown = mask(text.strip()) if self._sensitive_question(session) else text
                out.log.append(LogEntry("user", session.active, {"text": shown}))
                self._text(session, text, out)
            case Unsupported(kind=kind):
                out.log.append(LogEntry("user", session.active, {"unsupported": kind}))
                out.replies.append(Reply(t(session.language, "unsupported.message"), (), False, "unsupported"))
                out.replies.append(self.current_screen(session))

    # --- conversations ------------------------------------------------------------------------
    def _sensitive_question(self, session: Session) -> bool:
        dialog = get(session.active) if session.active else None
        rec = session.records.get(session.active or "")
        return bool(dialog and rec and dialog.is_sensitive(rec.state))

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
        if name is not None and session.last != name:
            session.last, session.changed = name, True

    def start_dialog(
        self, session: Session, dialog: Dialog[Any], out: Outcome, edit: bool, fresh: bool = False
    ) -> None:
        """Begin at the first question; earlier answers stay as marked defaults unless `fresh`."""
        conv = (None if fresh else self.conversation(session, dialog)) or dialog.new()
        conv.state, conv.history = dialog.initial, []
        self.save(session, dialog, conv)
        self.activate(session, dialog.name)
        out.replies.append(dialog.render(conv, session.language, edit))

    def current_screen(self, session: Session, edit: bool = False) -> Reply:
        dialog = get(session.active) if session.active else None
        conv = self.conversation(session, dialog) if dialog else None
        if dialog is None or conv is None:
            return self.menu(session, edit=edit)
        return dialog.render(conv, session.language, edit)

    def menu(self, session: Session, text: str | None = None, edit: bool = False) -> Reply:
        lang = session.language
        keyboard: list[tuple[Button, ...]] = []
        if session.last and session.last in session.records:
            keyboard.append((Button(t(lang, "menu.resume"), actions.menu("resume")),))
        keyboard += [
            (Button(t(lang, "menu.check"), actions.menu("check")),),
            (Button(t(lang, "menu.filingtype"), actions.menu("filingtype")),),
            (Button(t(lang, "menu.steps"), actions.menu("steps")),),
            (
                Button(t(lang, "menu.language"), actions.menu("lang")),
                Button(t(lang, "menu.help"), actions.menu("help")),
            ),
        ]
        return Reply(text or t(lang, "menu.title"), tuple(keyboard), edit, "menu")

    # --- hand-off to a person ----------------------------------------------------------------
    def open_ticket(self, session: Session, reason: str, out: Outcome) -> None:
        position = self._data(session).waiting_tickets() + 1
        out.effects.append(OpenTicket(reason, session.active))  # storage logs it and fills out.handoff
        out.replies.append(Reply(t(session.language, "handoff.opened", n=position), (), False, "handoff.opened"))

    def _during_handoff(self, session: Session, event: Event, out: Outcome) -> None:
        """A person handles the user: messages go to them, the bot's dialogs wait."""
        lang, ticket_id = session.language, session.ticket_id
        assert ticket_id is not None
        match event:
            case Command(name="cancel"):
                out.log.append(LogEntry("user", None, {"command": "cancel"}))
                self._end_ticket(session, ticket_id, None, "handoff.user_ended", out)
                out.ended_ticket = ticket_id
            case Command(name="human"):
                out.replies.append(Reply(t(lang, "handoff.already"), (), False, "handoff.already"))
            case Command(name=name):
                out.log.append(LogEntry("user", None, {"command": name}))
                out.replies.append(Reply(t(lang, "handoff.paused"), (), False, "handoff.paused"))
            case Text(message_id=int(message_id), text=text) | Unsupported(message_id=int(message_id), kind=text):
                out.log.append(LogEntry("user", None, {"relayed": text}))
                out.effects.append(QueueRelay(ticket_id, message_id))  # storage adds it to out.relays
            case Press(data=data) if isinstance(rate := actions.decode(data), actions.Rate):
                self._rate(session, rate, out)
            case _:
                out.toast = t(lang, "handoff.paused")

    def _support_closed(self, session: Session, event: SupportClosed, out: Outcome) -> None:
        if session.ticket_id == event.ticket_id:
            self._end_ticket(session, event.ticket_id, event.note, "handoff.closed", out)

    def _end_ticket(self, session: Session, ticket_id: int, note: str | None, key: str, out: Outcome) -> None:
        """Close the ticket, tell the user, show where they were, and ask for a rating."""
        lang = session.language
        if not self._data(session).ticket_is_open(ticket_id):
            return
        out.effects.append(EndTicket(ticket_id, note))
        session.ticket_id = None
        text = t(lang, key) + (f"\n{t(lang, 'handoff.note', note=note)}" if note else "")
        out.replies.append(Reply(text, (), False, "handoff.ended"))
        stars = tuple(Button(n, actions.encode(actions.Rate(ticket_id, n))) for n in actions.STARS)
        out.replies.append(Reply(t(lang, "handoff.rate"), (stars,), False, "handoff.rate"))
        out.replies.append(self.current_screen(session))
        out.log.append(LogEntry("handoff", session.active, {"ticket": ticket_id, "closed": key}))

    def _rate(self, session: Session, rate: actions.Rate, out: Outcome) -> None:
        lang = session.language
        if self._data(session).can_rate(rate.ticket):
            out.effects.append(RateTicket(rate.ticket, int(rate.stars)))
            out.toast = t(lang, "handoff.rated")
            out.replies.append(Reply(t(lang, "handoff.rated"), (), True, "handoff.rated"))
            out.log.append(LogEntry("handoff", None, {"ticket": rate.ticket, "rating": int(rate.stars)}))
            return
        out.toast = t(lang, "stale.gone")

    def forget_confirm(self, session: Session) -> Reply:
        lang = session.language
        buttons = (
            (
                Button(t(lang, "forget.yes"), actions.encode(actions.Forget("yes"))),
                Button(t(lang, "forget.no"), actions.encode(actions.Forget("no"))),
            ),
        )
        return Reply(t(lang, "forget.confirm"), buttons, False, "forget.confirm")

    @staticmethod
    def _data(session: Session) -> UserData:
        if session.data is None:
            raise RuntimeError("this feature needs the session's UserData")
        return session.data

    def language_chooser(self, session: Session, edit: bool = False) -> Reply:
        buttons = (
            Button("English", actions.encode(actions.SetLanguage("en"))),
            Button("中文", actions.encode(actions.SetLanguage("zh"))),
        )
        return Reply(t(session.language, "language.choose"), (buttons,), edit, "language")

    # --- commands -----------------------------------------------------------------------------
    def _command(self, session: Session, name: str, out: Outcome) -> None:
        lang = session.language
        if name in DIALOG_COMMANDS:
            self.start_dialog(session, self.dialogs[name], out, edit=False)
        elif name == "start":
            out.replies.append(self.menu(session))
        elif name == "codes":
            out.replies.append(codes.list_screen(self._data(session), lang))
        elif name == "progress":
            out.replies.append(progress.screen(self._data(session), lang))
        elif name == "forget":
            out.replies.append(self.forget_confirm(session))
        elif name == "human":
            self.open_ticket(session, "ask", out)
        elif name == "help":
            out.replies.append(self.menu(session, t(lang, "help.text")))
        elif name == "language":
            out.replies.append(self.language_chooser(session))
        elif name == "cancel":
            if session.active:
                self.activate(session, None)
                out.replies.append(self.menu(session, t(lang, "cancelled")))
            else:
                out.replies.append(self.menu(session, t(lang, "nothing_to_cancel")))
        elif name == "reset":
            session.records.clear()
            session.cleared = True
            self.activate(session, None)
            session.last, session.changed = None, True  # nothing left to continue
            out.replies.append(self.menu(session, t(lang, "reset.done")))
        else:
            out.replies.append(self.menu(session, t(lang, "unknown_command")))

    # --- buttons ----------------------------------------------------------------------------
    def _press(self, session: Session, data: str, out: Outcome) -> None:
        lang = session.language
        match actions.decode(data):
            case actions.FaqShow() | actions.FaqFeedback() as faq if faq_answers.press(session, faq, out):
                pass
            case actions.Handoff(reason=reason):
                self.open_ticket(session, reason, out)
            case actions.Rate() as rate:
                self._rate(session, rate, out)
            case actions.Menu(target=target):
                self._menu_action(session, target, out)
            case actions.SetLanguage(language=language):
                if session.language != language:
                    session.language, session.changed = language, True
                out.replies.append(Reply(t(session.language, "language.set"), (), True, "language.set"))
                out.replies.append(self.current_screen(session))
            case actions.InDialog() as act if act.dialog in self.dialogs:
                self._dialog_action(session, self.dialogs[act.dialog], act, out)
            case actions.CodeList():
                out.replies.append(codes.list_screen(self._data(session), lang, edit=True))
            case actions.CodeAdd():
                self.start_dialog(session, self.dialogs["addcode"], out, edit=True, fresh=True)
            case actions.CodeShow(code_id=code_id):
                data_ = self._data(session)
                code = data_.get_code(code_id)
                if code is None:
                    out.toast = t(lang, "codes.gone")
                    out.replies.append(codes.list_screen(data_, lang))
                else:
                    out.replies.append(codes.detail_screen(data_, code, lang))
            case actions.CodeSet() as change:
                codes.change_status(self._data(session), lang, change, session.now, out)
            case actions.ProgressShow():
                out.replies.append(progress.screen(self._data(session), lang))
            case actions.ProgressGo() as go:
                progress.move(self._data(session), lang, go, session.now, out)
            case actions.ProgressReminders(switch=switch):
                progress.switch_reminders(self._data(session), lang, switch, out)
            case actions.ProgressNotYet():
                out.replies.append(Reply(t(lang, "remind.not_yet.reply"), (), False, "remind.not_yet"))
            case actions.Forget(answer="yes"):
                out.effects.append(ForgetUser())
                session.forgotten = True
                out.replies.append(Reply(t(lang, "forget.done"), (), True, "forget.done"))
            case actions.Forget(answer="no"):
                out.replies.append(self.menu(session, t(lang, "forget.kept"), edit=True))
            case _:  # forged, foreign, or ours but no longer meaningful (an FAQ entry that is gone)
                out.toast = t(lang, "stale.gone")
                out.replies.append(self.menu(session))

    def _menu_action(self, session: Session, target: str, out: Outcome) -> None:
        if target in DIALOG_COMMANDS:
            self.start_dialog(session, self.dialogs[target], out, edit=True)
        elif target == "menu":
            out.replies.append(self.menu(session, edit=True))
        elif target == "help":
            out.replies.append(self.menu(session, t(session.language, "help.text"), edit=True))
        elif target == "lang":
            out.replies.append(self.language_chooser(session, edit=True))
        elif target == "resume":
            if session.last in session.records:
                self.activate(session, session.last)
            out.replies.append(self.current_screen(session, edit=True))
        else:
            out.toast = t(session.language, "stale.gone")
            out.replies.append(self.menu(session))

    def _dialog_action(self, session: Session, dialog: Dialog[Any], act: actions.InDialog, out: Outcome) -> None:
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
            self._answer(session, dialog, conv, act.value, out, edit=True)
            return
        if act.verb is actions.Verb.RESTART:
            conv.state, conv.history = dialog.initial, []
        else:
            dialog.fire(conv, act.verb.trigger)  # back / next; a move that does not apply leaves the state
        self.save(session, dialog, conv)
        self.activate(session, dialog.name)
        out.replies.append(dialog.render(conv, session.language, edit=True))

    def _answer(
        self, session: Session, dialog: Dialog[Any], conv: Conversation[Any], value: Any, out: Outcome, edit: bool
    ) -> None:
        question = conv.state
        logged = mask(str(value)) if dialog.is_sensitive(question) else value
        dialog.answer(conv, value)
        at_screen = conv.state not in dialog.by_name
        if at_screen:
            out.effects += dialog.finish(conv, session.data)
        self.save(session, dialog, conv)
        self.activate(session, dialog.name)
        out.log.append(LogEntry("answer", dialog.name, {"question": question, "value": logged}))
        result = dialog.result_log(conv) if at_screen else None
        if result is not None:
            out.log.append(LogEntry("verdict", dialog.name, result))
        out.replies.append(dialog.render(conv, session.language, edit))

    # --- free text -----------------------------------------------------------------------------
    def _text(self, session: Session, text: str, out: Outcome) -> None:
        lang = session.language
        dialog = get(session.active) if session.active else None
        conv = self.conversation(session, dialog) if dialog else None
        if dialog is not None and conv is not None:
            try:
                value = dialog.match_typed(conv, text)
            except InvalidTypedAnswer as exc:
                out.replies.append(Reply(t(lang, exc.key, **exc.params), (), False, "hint.invalid"))
                out.replies.append(dialog.render(conv, lang))
                return
            if value is not None:
                self._answer(session, dialog, conv, value, out, edit=False)
                return
        hooked = self.free_text_hook(session, text) if self.free_text_hook else None
        if hooked is not None:
            out.replies.extend(hooked.replies)
            out.log.extend(hooked.log)
            out.effects.extend(hooked.effects)
            if not hooked.resolved and dialog is not None and conv is not None:
                out.replies.append(dialog.render(conv, lang))
            return
        if dialog is not None and conv is not None:
            out.replies.append(Reply(t(lang, "hint.use_buttons"), (), False, "hint.use_buttons"))
            out.replies.append(dialog.render(conv, lang))
        else:
            out.replies.append(self.menu(session, t(lang, "hint.no_dialog")))
