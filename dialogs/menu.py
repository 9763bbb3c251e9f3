"""The menu and help (/start, /help, the menu buttons), /cancel and /reset."""

from __future__ import annotations

from dialogs import actions, forget, myfiling, questions
from dialogs.commands import COMMANDS
from dialogs.feature import Feature, Flow, at_result
from dialogs.language import chooser
from dialogs.screens import Button, Outcome, Reply
from dialogs.session import Session
from knowledge.domain import Language
from knowledge.texts import t


def screen(session: Session, text: str | None = None, edit: bool = False) -> Reply:
    lang = session.language
    keyboard: list[tuple[Button, ...]] = []
    if session.last and session.last in session.records:
        keyboard.append((Button(t(lang, "menu.resume"), actions.menu("resume")),))
    keyboard += [
        (Button(t(lang, "menu.check"), actions.menu("check")),),
        (Button(t(lang, "menu.ready"), actions.menu("ready")),),
        (Button(t(lang, "menu.filingtype"), actions.menu("filingtype")),),
        (Button(t(lang, "menu.steps"), actions.menu("steps")),),
        (Button(t(lang, "menu.myfiling"), actions.menu("myfiling")),),
        (
            Button(t(lang, "menu.codes"), actions.encode(actions.CodeList())),
            Button(t(lang, "menu.progress"), actions.encode(actions.ProgressShow())),
        ),
        (Button(t(lang, "btn.human"), actions.encode(actions.Handoff("ask"))),),
        (
            Button(t(lang, "menu.language"), actions.menu("lang")),
            Button(t(lang, "menu.help"), actions.menu("help")),
        ),
    ]
    return Reply(text or t(lang, "menu.title"), tuple(keyboard), edit, "menu")


def _start(flow: Flow, session: Session, out: Outcome) -> None:
    flow.show(session, None)  # at the menu; the dialog the user left stays "where I was"
    out.replies.append(flow.menu(session))


def help_text(lang: Language) -> str:
    """Every command, described in the user's language (the same list as the command menu)."""
    lines = [t(lang, "help.intro"), "", *(f"/{name} - {t(lang, f'cmd.{name}')}" for name in COMMANDS)]
    return "\n".join([*lines, "", t(lang, "help.buttons")])


def _help(flow: Flow, session: Session, out: Outcome) -> None:
    flow.show(session, None)
    out.replies.append(flow.menu(session, help_text(session.language)))


def _cancel(flow: Flow, session: Session, out: Outcome) -> None:
    lang = session.language
    dialog = flow.dialogs.get(session.active) if session.active else None
    if session.active == forget.SCREEN:  # at the confirmation: nothing is deleted
        forget.kept(flow, session, out)
    elif dialog is not None:
        # A dialog that only records something (adding a code) is not one "Continue" leads back to.
        flow.activate(session, None)
        key = "cancelled.nothing_saved" if dialog.leaves_when_done else "cancelled"
        out.replies.append(flow.menu(session, t(lang, key)))
    else:  # at the menu or a screen (/codes...): no question open; one left earlier waits in the menu
        flow.show(session, None)
        resumable = session.last is not None and session.last in session.records
        out.replies.append(
            flow.menu(session, t(lang, "nothing_to_cancel.resume" if resumable else "nothing_to_cancel"))
        )


def _reset(flow: Flow, session: Session, out: Outcome) -> None:
    session.records.clear()
    session.cleared = True
    flow.activate(session, None)
    session.last, session.changed = None, True  # nothing left to continue
    out.replies.append(flow.menu(session, t(session.language, "reset.done")))


def _pressed(flow: Flow, session: Session, action: actions.Menu, out: Outcome) -> None:
    target = action.target
    if target in questions.COMMANDS:  # a question dialog's entry, of its own name
        flow.start_dialog(session, flow.dialogs[target], out, edit=True)
    elif target == "menu" or (target == "hello" and session.active is None):
        flow.show(session, None)
        out.replies.append(flow.menu(session, edit=True))
    elif target == "hello":  # typed at a question or a screen: a greeting back, and nothing left behind
        out.replies.append(Reply(t(session.language, "hello.reply"), (), False, "hello"))
        out.replies.append(flow.current_screen(session))
    elif target == "help":
        flow.show(session, None)
        out.replies.append(flow.menu(session, help_text(session.language), edit=True))
    elif target == "myfiling":
        flow.show(session, "myfiling")
        out.replies.append(myfiling.screen(flow, session, edit=True))
    elif target == "lang":
        out.replies.append(chooser(session, edit=True))
    elif target == "verdict":  # Back from /ready's first question: the server's verdict it starts from
        _verdict(flow, session, out)
    elif target in ("thanks", "ack"):  # typed: a short answer, and the user stays where they are
        out.replies.append(Reply(t(session.language, f"{target}.reply"), (), False, target))
        out.replies.append(flow.current_screen(session))
    else:  # resume: where the user is (an FAQ answer inside a dialog or a screen), else the dialog they left
        if session.active is None and session.last in session.records:
            flow.activate(session, session.last)
        out.replies.append(flow.current_screen(session, edit=True))


def _verdict(flow: Flow, session: Session, out: Outcome) -> None:
    """The /check result as the user's answers give it; the menu while /check is not answered."""
    check = flow.dialogs["check"]
    result = at_result(flow, session, check.name)
    if result is None:
        flow.show(session, None)
        out.replies.append(flow.menu(session, edit=True))
        return
    flow.save(session, check, result)
    flow.activate(session, check.name)
    out.replies.append(check.render(result, session.language, True))


TYPED: dict[str, actions.Action] = {
    "menu.check": actions.Menu("check"),
    "menu.ready": actions.Menu("ready"),
    "menu.filingtype": actions.Menu("filingtype"),
    "menu.steps": actions.Menu("steps"),
    "menu.myfiling": actions.Menu("myfiling"),
    "menu.resume": actions.Menu("resume"),
    "menu.language": actions.Menu("lang"),
    "menu.help": actions.Menu("help"),
    "btn.menu": actions.Menu("menu"),
}

# A greeting, a thank-you or an "ok" is no question for the FAQ: a short answer where the user is
# (at the menu, the menu answers a greeting).
PHRASES: dict[str, actions.Action] = {
    **{phrase: actions.Menu("hello") for phrase in ("hi", "hello", "hey", "你好", "您好", "嗨")},
    "菜单": actions.Menu("menu"),
    **{phrase: actions.Menu("thanks") for phrase in ("thanks", "thank you", "thx", "谢谢", "多谢", "感谢")},
    # An acknowledgement is no question either: a short answer where the user is.
    **{
        phrase: actions.Menu("ack")
        for phrase in (
            "ok",
            "okay",
            "k",
            "fine",
            "got it",
            "cool",
            "great",
            "nice",
            "好的",
            "好",
            "嗯",
            "嗯嗯",
            "行",
            "收到",
            "明白",
            "明白了",
            "知道了",
            "了解",
            "懂了",
        )
    },
    # Where they stand and what comes next, as newcomers ask it: My filing answers both.
    **{
        phrase: actions.Menu("myfiling")
        for phrase in (
            "where am i",
            "what should i do",
            "what should i do now",
            "what do i do now",
            "my status",
            "我该干嘛",
            "我该做什么",
            "我现在该做什么",
            "我现在到哪一步了",
            "我到哪一步了",
            "我进行到哪了",
            "我的进度",
            "我的状态",
        )
    },
    # Back to where they were, typed.
    **{phrase: actions.Menu("resume") for phrase in ("continue", "go on", "继续", "接着来", "继续吧")},
}

FEATURE = Feature(
    "menu",
    commands={"start": _start, "menu": _start, "help": _help, "cancel": _cancel, "reset": _reset},
    buttons={actions.Menu: _pressed},
    typed=TYPED,
    phrases=PHRASES,
)
