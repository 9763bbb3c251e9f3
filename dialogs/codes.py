"""/codes: the user's service codes. Adding one is a dialog; listing and status changes are screens.

Codes are the owner's: shown in full only here, in the owner's own chat. Everything that leaves
this chat (turn log, staff views, CLI) uses `mask`.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import replace
from datetime import datetime
from typing import Any, Literal

from dialogs import actions
from dialogs.code_lifecycle import FINAL, advice, allowed_targets, change
from dialogs.effects import AddCode, DeleteCode, Effect, SetCodeStatus
from dialogs.feature import Feature, Flow, data
from dialogs.ports import CodeChange, CodeRecord, UserData
from dialogs.screens import Button, LogEntry, Outcome, Reply, rows
from dialogs.session import Session
from dialogs.spec import Answers, Conversation, Dialog, Move, Question, confirmation_words, option_label
from knowledge.domain import FREE_SERVICE_CODES_PER_INSTANCE, SERVER_PRODUCTS, Language
from knowledge.faq import faq_index
from knowledge.inputs import InvalidInput, clean_text, reads_as_question
from knowledge.progress import CHINA
from knowledge.service_codes import (
    MAX_CODE_LENGTH,
    MAX_INSTANCE_LENGTH,
    MIN_CODE_LENGTH,
    CodeOrigin,
    CodeStatus,
    looks_like_code,
    mask,
)
from knowledge.statements import statement
from knowledge.texts import t

CODES_PER_PAGE = 30  # a button each; a keyboard holds at most 100
_LIST, _ADD, _MENU = actions.encode(actions.CodeList()), actions.encode(actions.CodeAdd()), actions.menu("menu")

# The products that come with service codes of their own (knowledge/domain.py), by their option value.
SERVER_SOURCES = frozenset(p.value for p in SERVER_PRODUCTS)


class AddCodeAnswers(Answers):
    code: str | None = None
    product: Literal["ecs", "sas", "other"] | None = None
    instance: str | None = None
    paid: Literal["free", "paid"] | None = None
    origin: CodeOrigin | None = None
    status: CodeStatus | None = None  # any of the five: the user records what the console shows
    # filled in by `finish`
    result: Literal["saved", "duplicate"] | None = None
    saved_mask: str | None = None
    free_number: int | None = None  # set when this is more than the 5 free codes of an instance


def from_server(a: AddCodeAnswers) -> bool:
    return a.product in SERVER_SOURCES


def _typed_code(text: str) -> str | None:
    """A code; None for a question asked meanwhile that the FAQ answers ("where do I find my service
    code?"): it goes to the FAQ, and the question here stays open. Only such a question leaves here:
    anything else could carry a code, in full, into the FAQ's record of unanswered questions."""
    code = text.strip()
    if looks_like_code(code):
        return code
    if reads_as_question(code):
        if faq_index().ask(code).entry is not None:
            return None
        raise InvalidInput("addcode.not_understood")
    clean_text(code, MAX_CODE_LENGTH)  # empty, control characters, too long: said as such
    words = re.split(r"[\s:：,，。]+", code)
    if any(looks_like_code(word) and any(ch.isdigit() for ch in word) for word in words):
        raise InvalidInput("addcode.only_the_code")  # "我的服务码是 A1B2C3D4E5": the code, and words
    raise InvalidInput("addcode.not_a_code", min=MIN_CODE_LENGTH)


def _typed_instance(text: str) -> str | None:
    """An instance's ID or name; a question asked meanwhile ("how long does it take?", 服务码是什么)
    is none: it goes to the FAQ, and the question here stays open. A question is a text with a
    question mark or one the FAQ can answer; any other text may be a name (哪吒, 什么值得买)."""
    if "?" in text or "？" in text or faq_index().ask(text).entry is not None:
        return None
    return clean_text(text, MAX_INSTANCE_LENGTH)


def _no_label(lang: Language, option: str) -> str:
    return option


def _status_label(lang: Language, option: str) -> str:
    return t(lang, f"status.{option}")


class AddCodeDialog(Dialog[AddCodeAnswers]):
    name = "addcode"
    answers_type = AddCodeAnswers
    leaves_when_done = True
    back_to = actions.encode(actions.CodeList())
    questions = (
        Question("code", "addcode.q.code", (), _no_label, parse_typed=_typed_code, sensitive=True),
        Question("product", "addcode.q.product", ("ecs", "sas", "other"), option_label("codeproduct"), 1),
        Question("instance", "addcode.q.instance", (), _no_label, parse_typed=_typed_instance),
        Question("paid", "addcode.q.paid", ("free", "paid"), option_label("paid")),
        Question("origin", "addcode.q.origin", tuple(o.value for o in CodeOrigin), option_label("origin"), 1),
        Question("status", "addcode.q.status", tuple(s.value for s in CodeStatus), _status_label, 1),
    )
    screens = ("saved",)
    moves = (
        Move("code", "product"),
        Move("product", "instance", from_server),
        Move("product", "paid"),
        Move("instance", "paid"),
        Move("paid", "origin"),
        Move("origin", "status"),
        Move("status", "saved"),
    )

    def refusal(
        self, conv: Conversation[AddCodeAnswers], value: Any, data: UserData | None, lang: Language
    ) -> str | None:
        # The source: only paid service codes can be Refunded.
        if conv.state == "status" and value == CodeStatus.REFUNDED.value and conv.answers.paid == "free":
            return statement("codeforbid.refund_free").text(lang)
        # A code already recorded (in any case) is said at once, not after the other questions.
        if conv.state == "code" and data is not None and (known := data.find_code(str(value))) is not None:
            return t(lang, "addcode.duplicate", code=mask(known.code))
        return None

    def finish(self, conv: Conversation[AddCodeAnswers], data: UserData | None, now: datetime) -> list[Effect]:
        assert data is not None, "storing a code needs the turn's UserData"
        a = conv.answers
        if a.code is None:  # already stored on an earlier pass through this screen
            return []
        effects: list[Effect] = []
        given = self.visited(conv)
        instance = given.get("instance") if from_server(a) else None
        a.saved_mask = mask(a.code)
        if data.find_code(a.code) is not None:
            a.result = "duplicate"
        else:
            free = a.paid == "free"
            before = data.count_free_codes(instance) if (free and instance) else 0
            origin = CodeOrigin(a.origin or "generated")
            effects.append(
                AddCode(a.code, str(a.product), instance, not free, origin, a.status or CodeStatus.AVAILABLE)
            )
            a.result = "saved"
            a.free_number = before + 1 if before >= FREE_SERVICE_CODES_PER_INSTANCE else None
        # The code now lives in service_codes only; the dialog keeps the masked form.
        a.code = None
        return effects

    def render_screen(self, conv: Conversation[AddCodeAnswers], lang: Language, edit: bool) -> Reply:
        a = conv.answers
        if a.result == "duplicate":
            lines = ["ℹ️ " + t(lang, "addcode.duplicate", code=a.saved_mask)]
        else:
            status = (a.status or CodeStatus.AVAILABLE).value
            lines = ["✅ " + t(lang, "addcode.saved", code=a.saved_mask, status=t(lang, f"status.{status}"))]
            if a.free_number:
                lines += ["", "⚠️ " + statement("codes.sixth_free").text(lang, n=a.free_number, instance=a.instance)]
        keyboard = (
            (Button(t(lang, "codes.list"), _LIST), Button(t(lang, "addcode.another"), _ADD)),
            (Button(t(lang, "btn.menu"), actions.menu("menu")),),
        )
        return Reply("\n".join(lines), keyboard, edit, "addcode.saved")

    def result_log(self, conv: Conversation[AddCodeAnswers]) -> dict[str, Any] | None:
        a = conv.answers
        return {"code": a.saved_mask, "result": a.result, "sixth_free": a.free_number}


# --- screens ----------------------------------------------------------------------------------
def describe(code: CodeRecord, lang: Language, shown: str) -> str:
    parts = [shown, t(lang, f"status.{code.status.value}")]
    source = t(lang, f"opt.codeproduct.{code.product}") + (f" {code.instance}" if code.instance else "")
    parts.append(t(lang, "codes.from", source=source))
    parts.append(t(lang, "codes.paid" if code.paid else "codes.free"))
    parts.append(t(lang, f"codes.origin.{code.origin.value}"))
    return " · ".join(parts)


def list_screen(
    data: UserData,
    lang: Language,
    edit: bool = False,
    notice: str | None = None,
    deleted: int | None = None,  # a code this turn deletes: still stored until it commits
    page: int = 0,
) -> Reply:
    codes = [c for c in data.list_codes() if c.id != deleted]
    lines = [notice, ""] if notice else []
    if not codes:
        lines += [t(lang, "codes.empty"), "", statement("codes.same_account_hint").text(lang)]
    else:
        lines.append(t(lang, "codes.title"))
        lines += [f"{i}. {describe(c, lang, c.code)}" for i, c in enumerate(codes, 1)]
    pages = max(1, -(-len(codes) // CODES_PER_PAGE))
    page = min(page, pages - 1)
    shown = codes[page * CODES_PER_PAGE : (page + 1) * CODES_PER_PAGE]
    buttons = [
        Button(f"{c.code} · {t(lang, f'status.{c.status.value}')}", actions.encode(actions.CodeShow(c.id)))
        for c in shown
    ]
    turn_page = [
        Button(label, actions.encode(actions.CodeList(to)))
        for label, to in ((t(lang, "btn.back"), page - 1), (t(lang, "btn.next"), page + 1))
        if 0 <= to < pages
    ]
    keyboard = (
        *rows(buttons, 1),
        *((tuple(turn_page),) if turn_page else ()),
        (Button(t(lang, "codes.add"), _ADD), Button(t(lang, "btn.menu"), _MENU)),
    )
    return Reply("\n".join(lines), keyboard, edit, "codes.list")


def detail_screen(
    data: UserData,
    code: CodeRecord,
    lang: Language,
    edit: bool = True,
    notice: str | None = None,
    just_changed: CodeChange | None = None,  # made by this turn: not stored until it commits
) -> Reply:
    lines = [notice, ""] if notice else []
    lines += [describe(code, lang, code.code), "", statement(f"codestatus.{code.status.value}").text(lang)]
    targets = allowed_targets(code.status, code.paid)
    if not targets:
        lines.append(t(lang, "codes.final"))
    lines += ["", t(lang, "codes.history")]
    for ch in [*data.code_history(code.id), *([just_changed] if just_changed else [])]:
        date = ch.at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
        if ch.from_status is None:
            lines.append(
                "• " + t(lang, "codes.history.first", date=date, status=t(lang, f"status.{ch.to_status.value}"))
            )
        else:
            lines.append(
                "• "
                + t(
                    lang,
                    "codes.history.change",
                    date=date,
                    old=t(lang, f"status.{ch.from_status.value}"),
                    new=t(lang, f"status.{ch.to_status.value}"),
                )
            )
    # Each button is the status it records, as the console names it: the user copies what they see.
    buttons = [
        Button(t(lang, f"status.{target.value}"), actions.encode(actions.CodeSet(code.id, code.status, target)))
        for target in targets
    ]
    if targets:
        lines += ["", t(lang, "codes.change_to")]
    keyboard = (
        *rows(buttons, 2),
        (Button(t(lang, "codes.delete"), actions.encode(actions.CodeDelete(code.id))),),
        (Button(t(lang, "codes.list"), _LIST), Button(t(lang, "btn.menu"), _MENU)),
    )
    return Reply("\n".join(lines), keyboard, edit, "codes.detail")


def final_screen(code: CodeRecord, target: CodeStatus, lang: Language) -> Reply:
    """Record a status the code cannot leave (Filed, Refunded)? Asked, as a tap cannot be undone."""
    status = t(lang, f"status.{target.value}")
    keyboard = (
        (
            Button(
                t(lang, "codes.final.yes", status=status),
                actions.encode(actions.CodeSet(code.id, code.status, target, "y")),
            ),
            Button(t(lang, "codes.final.no"), actions.encode(actions.CodeShow(code.id))),
        ),
    )
    return Reply(t(lang, "codes.final.confirm", code=code.code, status=status), keyboard, True, "codes.final")


def delete_screen(code: CodeRecord, lang: Language) -> Reply:
    """Is the record of this code to be deleted? Only the bot's record: Alibaba Cloud is not touched."""
    keyboard = (
        (
            Button(t(lang, "codes.delete.yes"), actions.encode(actions.CodeDelete(code.id, "y"))),
            Button(t(lang, "codes.delete.no"), actions.encode(actions.CodeShow(code.id))),
        ),
    )
    return Reply(t(lang, "codes.delete.confirm", code=code.code), keyboard, True, "codes.delete")


def delete(data: UserData, lang: Language, action: actions.CodeDelete, out: Outcome) -> None:
    """The Delete button asks first; its confirmation deletes the record, and the list shows without it."""
    code = data.get_code(action.code_id)
    if code is None:  # deleted already (a second press), or never the user's
        out.toast = t(lang, "codes.gone")
        out.replies.append(list_screen(data, lang))
        return
    if action.sure is None:
        out.replies.append(delete_screen(code, lang))
        return
    out.effects.append(DeleteCode(code.id))
    out.toast = t(lang, "codes.deleted.toast")
    notice = "🗑 " + t(lang, "codes.deleted", code=mask(code.code))
    out.replies.append(list_screen(data, lang, edit=True, notice=notice, deleted=code.id))
    out.log.append(LogEntry("code", None, {"code": mask(code.code), "deleted": True}))


def change_status(data: UserData, lang: Language, action: actions.CodeSet, now: datetime, out: Outcome) -> None:
    """A status button. The machine decides; a refusal says why."""
    current, target = action.current, action.target
    code = data.get_code(action.code_id)
    if code is None:
        out.toast = t(lang, "codes.gone")
        out.replies.append(list_screen(data, lang))
        return
    if code.status is not current:
        out.toast = t(lang, "codes.stale")
        out.replies.append(detail_screen(data, code, lang, edit=False))
        return
    refusal = change(current, target, code.paid)
    if refusal is not None:
        params = {k: t(lang, f"status.{v}") for k, v in refusal.params.items()}
        reason = statement(refusal.key).text(lang, **params)
        out.toast = t(lang, "codes.refused")
        out.replies.append(detail_screen(data, code, lang, edit=False, notice="⛔ " + reason))
        out.log.append(LogEntry("code", None, {"code": mask(code.code), "refused": [current, target]}))
        return
    if target in FINAL and action.sure is None:  # no way back from it: asked first
        out.replies.append(final_screen(code, target, lang))
        return
    out.effects.append(SetCodeStatus(code.id, current, target))
    out.toast = t(lang, "codes.updated", status=t(lang, f"status.{target.value}"))
    updated = dataclasses.replace(code, status=target)
    note = advice(current, target)
    notice = "ℹ️ " + statement(note.key).text(lang) if note is not None else None
    out.replies.append(
        detail_screen(data, updated, lang, edit=True, notice=notice, just_changed=CodeChange(current, target, now))
    )
    out.log.append(LogEntry("code", None, {"code": mask(code.code), "from": current, "to": target}))


# --- the feature: /codes and its buttons ---------------------------------------------------------
def _screen(flow: Flow, session: Session, edit: bool) -> Reply:
    """Where the user is in /codes: the list, or a deletion they were asked to confirm."""
    asked = _asked_to_delete(session)
    code = data(session).get_code(asked) if asked is not None else None
    if code is not None:
        return replace(delete_screen(code, session.language), edit=edit)
    return list_screen(data(session), session.language, edit)


def _asked_to_delete(session: Session) -> int | None:
    _, _, asked = (session.active or "").partition(":")
    return actions.number(asked) if asked else None


def _typed_at_confirmation(asked: str) -> dict[str, actions.Action]:
    """ "yes" or "no" typed at a deletion's confirmation ("codes:<id>"); nothing at the list."""
    code_id = actions.number(asked) if asked else None
    if code_id is None:
        return {}
    answers = {"yes": actions.CodeDelete(code_id, "y"), "no": actions.CodeShow(code_id)}
    return {word: answers[answer] for word, answer in confirmation_words().items()}


def _list(flow: Flow, session: Session, out: Outcome) -> None:
    flow.show(session, "codes")
    out.replies.append(_screen(flow, session, False))


def _list_pressed(flow: Flow, session: Session, action: actions.CodeList, out: Outcome) -> None:
    flow.show(session, "codes")
    out.replies.append(list_screen(data(session), session.language, edit=True, page=action.page or 0))


def _add(flow: Flow, session: Session, action: actions.CodeAdd, out: Outcome) -> None:
    flow.start_dialog(session, flow.dialogs["addcode"], out, edit=True, fresh=True)


def _show(flow: Flow, session: Session, action: actions.CodeShow, out: Outcome) -> None:
    flow.show(session, "codes")  # also the confirmation's No: typed words no longer answer it
    lang, stored = session.language, data(session)
    code = stored.get_code(action.code_id)
    if code is None:
        out.toast = t(lang, "codes.gone")
        out.replies.append(list_screen(stored, lang))
    else:
        out.replies.append(detail_screen(stored, code, lang))


def _set(flow: Flow, session: Session, action: actions.CodeSet, out: Outcome) -> None:
    flow.show(session, "codes")
    change_status(data(session), session.language, action, session.now, out)


def _delete(flow: Flow, session: Session, action: actions.CodeDelete, out: Outcome) -> None:
    asking = action.sure is None and data(session).get_code(action.code_id) is not None
    flow.show(session, f"codes:{action.code_id}" if asking else "codes")  # typed yes or no answers it
    delete(data(session), session.language, action, out)


FEATURE = Feature(
    "codes",
    commands={"codes": _list},
    buttons={
        actions.CodeList: _list_pressed,
        actions.CodeAdd: _add,
        actions.CodeShow: _show,
        actions.CodeSet: _set,
        actions.CodeDelete: _delete,
    },
    typed={"codes.add": actions.CodeAdd(), "codes.list": actions.CodeList(), "menu.codes": actions.CodeList()},
    screen=_screen,
    at_screen=_typed_at_confirmation,
)
