"""One turn of a user's conversation: (session, event) -> outcome. No I/O: stored data is read
through the session's read-only UserData, and what the turn changes is returned as effects.

The router only dispatches: a command to the feature that declared it, a button (decoded by
dialogs/actions.py, which refuses anything it did not produce) to the feature that declared its
action, free text to the active question or else to the free-text hook (the FAQ), and everything
to the hand-off while a person handles the user (dialogs/features.py lists the features). Typed
text is read in this order: a command typed in a form Telegram does not mark ("／ｃｈｅｃｋ", "/帮助");
emoji or punctuation alone (👍, "?"); words that mean a button of the screen the user is at ("yes"
after /forget); ways out ("cancel", "back", 取消); phrases where a question takes any text; the open
question's answer; a button's label or a phrase ("hi", "ok"); a command's bare name outside a
question; and last the FAQ.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import replace

from dialogs import actions, handoff
from dialogs.commands import AS_WORDS, COMMANDS, command_for
from dialogs.feature import ButtonHandler, CommandHandler
from dialogs.features import FEATURES
from dialogs.flow import Flow
from dialogs.screens import Button, LogEntry, Outcome, Reply
from dialogs.session import (
    Command,
    Edited,
    Event,
    Press,
    Session,
    SupportClaimed,
    SupportClosed,
    Text,
    Unsupported,
)
from dialogs.spec import InvalidTypedAnswer, answer_synonyms, fold
from knowledge.domain import LANGUAGES, Language
from knowledge.service_codes import mask
from knowledge.texts import t

# Called with free text that answers no question; returns an outcome, or None to fall back
# to the hint. The FAQ plugs in here.
FreeTextHook = Callable[[Session, str], Outcome | None]
MAX_LABEL = 100  # characters: longer than any label of ours (a service code with its status included)


class Router:
    def __init__(self, free_text_hook: FreeTextHook | None = None, staff_available: bool = True) -> None:
        self.free_text_hook = free_text_hook
        self.flow = Flow(staff_available, {f.name: f.screen for f in FEATURES if f.screen is not None})
        commands = [(name, h) for f in FEATURES for name, h in f.commands.items()]
        buttons = [(kind, h) for f in FEATURES for kind, h in f.buttons.items()]
        self.commands: dict[str, CommandHandler] = dict(commands)
        self.buttons: dict[type[actions.Action], ButtonHandler] = dict(buttons)
        if len(self.commands) < len(commands) or len(self.buttons) < len(buttons):
            raise ValueError("a command or a button is declared by two features")
        # A typed button label, in either language, means its button (compared as typed answers are).
        self.typed: dict[str, str] = {
            fold(t(lang, key)): actions.encode(action)
            for f in FEATURES
            for key, action in f.typed.items()
            for lang in LANGUAGES
        }
        phrases = {fold(phrase): action for f in FEATURES for phrase, action in f.phrases.items()}
        self.typed |= {phrase: actions.encode(action) for phrase, action in phrases.items()}
        # Phrases come before a free-text answer would take them ("where am i" is no instance name,
        # "continue" no service code, "hi" no code), but "菜单" where a name is asked.
        self.in_place = {p: actions.encode(a) for p, a in phrases.items() if a != actions.Menu("menu")}
        # Words typed at a feature's own screen that mean one of its buttons ("yes" after /forget).
        self.at_screen: dict[str, Callable[[str], Mapping[str, actions.Action]]] = {
            f.name: f.at_screen for f in FEATURES if f.at_screen is not None
        }
        # The actions of those screens' own buttons: pressing one of them answers the screen too.
        self.screen_buttons: dict[str, tuple[type[actions.Action], ...]] = {
            f.name: tuple(f.buttons) for f in FEATURES if f.at_screen is not None
        }
        # Ways out typed at any question, read before it reads the text as its answer (and anywhere).
        self.ways_out: dict[str, str] = {
            fold(str(word)): way for way, words in answer_synonyms()["ways_out"].items() for word in words
        }

    def handle(self, session: Session, event: Event) -> Outcome:
        out = Outcome()
        words = self._screen_words(session)
        if words and not self._answers_screen(session, words, event):
            if isinstance(event, Text) and self._small_talk(event.text):
                # "ok", "hi", 👍 at a confirmation: no answer, and the confirmation stays (nothing is
                # deleted, and the user is told so rather than left to believe it was).
                out.log.append(LogEntry("user", session.active, {"text": event.text}))
                out.replies.append(Reply(t(session.language, "confirm.not_yet"), (), False, "confirm.not_yet"))
                out.replies.append(self.flow.current_screen(session))
                return out
            # Typed words answer such a screen (a confirmation) only right after it: "yes" typed
            # after an FAQ answer that came in between deleted everything at /forget's.
            self.flow.show(session, None)
        if isinstance(event, SupportClosed):
            handoff.closed_by_staff(self.flow, session, event, out)
        elif isinstance(event, SupportClaimed):
            handoff.claimed_by_staff(self.flow, session, event, out)
        elif session.ticket_id is not None:
            handoff.during(self.flow, session, event, out)
        else:
            self._route(session, event, out)
        for reply in out.replies:
            out.log.append(LogEntry("bot", session.active, {"screen": reply.screen}))
        return out

    def _route(self, session: Session, event: Event, out: Outcome) -> None:
        lang = session.language
        match event:
            case Command(name=name):
                out.log.append(LogEntry("user", session.active, {"command": name}))
                meant = command_for(name.removeprefix("unknown:"))  # "/ｃｏｄｅｓ", "/帮助"
                command = self.commands.get(meant) if meant is not None else None
                if command is None:
                    out.replies.append(self.flow.menu(session, _unknown_command(name, lang)))
                else:
                    command(self.flow, session, out)
            case Press(data=data):
                out.log.append(LogEntry("user", session.active, {"press": data}))
                action = actions.decode(data)
                button = self.buttons.get(type(action)) if action is not None else None
                if button is None:  # forged, foreign, truncated
                    self.flow.stale(session, out)
                else:
                    button(self.flow, session, action, out)
            case Text(text=text, captioned=captioned):
                shown = mask(text.strip()) if self.flow.sensitive_question(session) else text
                out.log.append(LogEntry("user", session.active, {"text": shown}))
                if captioned:  # a photo's caption: said first that the photo itself is not seen
                    out.replies.append(Reply(t(lang, "unsupported.caption"), (), False, "unsupported.caption"))
                self._text(session, text, out)
            case Unsupported(kind=kind):
                out.log.append(LogEntry("user", session.active, {"unsupported": kind}))
                out.replies.append(Reply(t(lang, "unsupported.message"), (), False, "unsupported"))
                out.replies.append(self.flow.current_screen(session))
            case Edited():
                out.log.append(LogEntry("user", session.active, {"edited": True}))
                out.replies.append(Reply(t(lang, "edited.ignored"), (), False, "edited.ignored"))

    def _text(self, session: Session, text: str, out: Outcome) -> None:
        lang = session.language
        folded = fold(text)
        typed_command = _as_command(text)
        if typed_command is not None:  # "／ｃｈｅｃｋ", "、check": a Chinese keyboard's slash
            self._route(session, Command(typed_command), out)
            return
        if not folded and text.strip():  # only emoji or punctuation: "?" asks for help, a 👍 acknowledges
            if text.strip() not in ("?", "？", "??", "？？"):
                self._route(session, Press(actions.menu("ack")), out)
            elif session.active is None:  # at the menu: all there is to know
                self._route(session, Press(actions.menu("help")), out)
            else:  # at a question or a screen: how to answer it, and it again (nothing left behind)
                out.replies.append(Reply(t(lang, "help.buttons"), (), False, "help.short"))
                out.replies.append(self.flow.current_screen(session))
            return
        pressed = self._screen_words(session).get(folded)
        if pressed is not None:
            self._route(session, Press(pressed), out)
            return
        way = self.ways_out.get(folded)
        if way is not None:
            self._way_out(session, way, out)
            return
        where = self.flow.active(session)
        if where is not None and where[0].takes_free_text(where[1]) and folded in self.in_place:
            self._route(session, Press(self.in_place[folded]), out)
            return
        if where is not None:
            dialog, conv = where
            try:
                value = dialog.match_typed(conv, text)
            except InvalidTypedAnswer as exc:
                out.replies.append(Reply(t(lang, exc.key, **exc.params), (), False, "hint.invalid"))
                out.replies.append(dialog.render(conv, lang))
                return
            refused = dialog.refusal(conv, value, session.data, lang) if value is not None else None
            if refused is not None:  # the question stays open, with the reason
                out.replies.append(Reply("⛔ " + refused, (), False, "hint.refused"))
                out.replies.append(dialog.render(conv, lang))
                return
            if value is not None:
                self.flow.answer(session, dialog, conv, value, out, edit=False)
                return
        pressed = self._typed_label(session, text)
        if pressed is not None:
            self._route(session, Press(pressed), out)
            return
        if where is None and folded in AS_WORDS:  # "check", 进度: a command's name without its slash
            # (not at a question: there "progress" may mean "in progress", "ready" a yes)
            self._route(session, Command(command_for(folded) or folded), out)
            return
        hooked = self.free_text_hook(session, text) if self.free_text_hook else None
        if hooked is not None:
            out.log.extend(hooked.log)
            out.effects.extend(hooked.effects)  # an unanswered question is recorded either way
            if hooked.resolved:
                out.replies.extend(hooked.replies)
            elif where is not None and where[1].state in where[0].by_name:
                # Neither an answer nor a question we can answer: the FAQ's miss (its related topics and
                # a person), and the open question again.
                dialog, conv = where
                out.replies.append(replace(hooked.replies[0], text=t(lang, "hint.not_an_answer")))
                out.replies.append(dialog.render(conv, lang))
            else:  # at a screen (/codes) or a dialog's result: the miss says "or pick from the menu"
                miss, *rest = hooked.replies
                menu = (Button(t(lang, "btn.menu"), actions.menu("menu")),)
                out.replies += [replace(miss, buttons=(*miss.buttons, menu)), *rest]
                if where is not None:  # a result screen: not all of it again, a short way back to it
                    says, label = where[0].way_back_to_screen
                    back = Button(t(lang, label), actions.menu("resume"))
                    out.replies.append(Reply(t(lang, says), ((back,),), False, "back.result"))
            return
        if where is not None:
            out.replies.append(Reply(t(lang, "hint.use_buttons"), (), False, "hint.use_buttons"))
            out.replies.append(where[0].render(where[1], lang))
        else:
            out.replies.append(self.flow.menu(session, t(lang, "hint.no_dialog")))

    def _small_talk(self, text: str) -> bool:
        """An acknowledgement, a greeting, a thank-you, or only emoji: no answer to anything."""
        folded = fold(text)
        small = (actions.menu("ack"), actions.menu("hello"), actions.menu("thanks"))
        return not folded or self.typed.get(folded) in small

    def _screen_words(self, session: Session) -> dict[str, str]:
        """The words that answer the screen the user is at (folded -> button data); none for most."""
        name, _, arg = (session.active or "").partition(":")
        words = self.at_screen.get(name)
        if words is None:
            return {}
        return {fold(word): actions.encode(action) for word, action in words(arg).items()}

    def _answers_screen(self, session: Session, words: dict[str, str], event: Event) -> bool:
        """The event answers the screen: one of its words typed, one of its buttons, or /cancel."""
        match event:
            case Text(text=text):
                return fold(text) in words
            case Press(data=data):
                screen = (session.active or "").partition(":")[0]
                return isinstance(actions.decode(data), self.screen_buttons[screen])
            case Command(name=name):
                return name == "cancel"
        return False

    def _way_out(self, session: Session, way: str, out: Outcome) -> None:
        """A way out typed: "back" presses the screen's Back button; where there is none, and for
        "cancel", it is /cancel."""
        if way == "back":
            back = t(session.language, "btn.back")
            for row in self.flow.current_screen(session).buttons:
                for button in row:
                    if button.label == back:
                        self._route(session, Press(button.data), out)
                        return
        self._route(session, Command("cancel"), out)

    def _typed_label(self, session: Session, text: str) -> str | None:
        """The button whose label the user typed: one on the screen they are at, or one that means
        the same anywhere (a menu entry, "Add a code"); None when the text is not a label."""
        folded = fold(text)
        # A question is longer than any label: it is not worth rendering the screen to compare.
        if not folded or len(folded) > MAX_LABEL:
            return None
        for row in self.flow.current_screen(session).buttons:
            for button in row:
                if fold(button.label) == folded:
                    return button.data
        return self.typed.get(folded)


def _unknown_command(name: str, lang: Language) -> str:
    """ "I don't know that command", and the one a typo most likely meant ("/chek": /check)."""
    typed = name.removeprefix("unknown:")
    guess = difflib.get_close_matches(typed, [c for c in COMMANDS if c not in ("start", "menu")], n=1, cutoff=0.7)
    if guess:
        return t(lang, "unknown_command.did_you_mean", command=guess[0])
    return t(lang, "unknown_command")


_TYPED_COMMAND = re.compile(r"[/、]\s*(\w+)(?:@\w+)?")


def _as_command(text: str) -> str | None:
    """One of our commands typed in a form Telegram does not mark as one: in full-width letters
    ("／ｃｈｅｃｋ"), after the "、" a Chinese keyboard gives for "/", in Chinese ("/帮助")."""
    match = _TYPED_COMMAND.fullmatch(unicodedata.normalize("NFKC", text).strip().lower())
    return command_for(match.group(1)) if match is not None else None
