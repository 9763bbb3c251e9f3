"""Free questions answered from the FAQ: the router's free-text hook, and the q: buttons.

The reply speaks the question's language. After an answer: "Did this help?" buttons, the
entry's related action, and a way back into the dialog the user was in. A question in several
parts ("how long does the review take? and is there a deadline for the SMS") gets one answer per
part, each under its topic's question as a title and with its own feedback buttons; the way back
comes once, under the last.
"""

from __future__ import annotations

from dialogs import actions
from dialogs.effects import RecordFaqFeedback, RecordFaqMiss
from dialogs.feature import Feature, Flow
from dialogs.screens import Button, LogEntry, Outcome, Reply
from dialogs.session import Session
from knowledge.domain import Language
from knowledge.faq import FaqEntry, faq_index
from knowledge.texts import t

ACTIONS = {
    "check": ("btn.check", actions.menu("check")),
    "filingtype": ("btn.filingtype", actions.menu("filingtype")),
    "steps": ("btn.steps", actions.menu("steps")),
    "codes": ("menu.codes", actions.encode(actions.CodeList())),
    "progress": ("menu.progress", actions.encode(actions.ProgressShow())),
}
_PERSON = actions.encode(actions.Handoff("faq"))
MAX_QUESTION = 1000
_TITLED = ".t"  # after an entry's id in a feedback button: the answer is shown under its title


def answer_reply(
    entry: FaqEntry,
    lang: Language,
    in_dialog: bool,
    edit: bool = False,
    feedback: bool = True,
    person: bool = False,
    titled: bool = False,
    way_back: bool = True,
) -> Reply:
    """An entry's answer; `titled`: under its question (one of several answers to one message)."""
    rows: list[tuple[Button, ...]] = []
    if person:  # the answer did not help: offer someone who can
        rows.append((Button(t(lang, "btn.human"), _PERSON),))
    if feedback:
        name = entry.id + _TITLED if titled else entry.id
        rows.append(
            (
                Button(t(lang, "faq.helpful"), actions.encode(actions.FaqFeedback(name, "1"))),
                Button(t(lang, "faq.not_helpful"), actions.encode(actions.FaqFeedback(name, "0"))),
            )
        )
    if entry.action in ACTIONS:
        key, data = ACTIONS[entry.action]
        rows.append((Button(t(lang, key), data),))
    if way_back:
        rows.append(
            (
                Button(t(lang, "faq.continue"), actions.menu("resume"))
                if in_dialog
                else Button(t(lang, "btn.menu"), actions.menu("menu")),
            )
        )
    text = f"💡 {entry.title(lang)}\n{entry.answer(lang)}" if titled else f"💡 {entry.answer(lang)}"
    return Reply(text, tuple(rows), edit, f"faq.{entry.id}")


def reply_language(question: str, detected: Language, user: Language) -> Language:
    """The reply speaks the question's language. One with no letters at all ("🙂", "???") has none,
    and a word or two in Latin letters from a Chinese user ("ECS", "CDN", "ok") are names and
    short words more than English: both get the user's language."""
    if not any(ch.isalpha() for ch in question):
        return user
    if detected == "en" and user == "zh" and len(question.split()) <= 2:
        return user
    return detected


def free_text(session: Session, text: str) -> Outcome | None:
    """The router's hook: answer a free question, or say plainly that we do not know."""
    question = text.strip()[:MAX_QUESTION]
    if not question:
        return None
    result = faq_index().ask(question)
    lang = reply_language(question, result.language, session.language)
    in_dialog = session.active is not None
    out = Outcome()
    if result.entry is not None:
        answers = [(r.entry, r.score) for r in (result, *result.more) if r.entry is not None]
        several = len(answers) > 1
        for n, (entry, score) in enumerate(answers, 1):
            out.replies.append(answer_reply(entry, lang, in_dialog, titled=several, way_back=n == len(answers)))
            data: dict[str, object] = {"topic": entry.id, "score": round(score, 3)}
            out.log.append(LogEntry("faq", session.active, data | {"part": n} if several else data))
        return out
    # The whole text: storage masks the user's codes in it before cutting it to length (a code cut
    # in two at the limit would no longer be recognised, and half of it would be kept).
    out.effects.append(RecordFaqMiss(text.strip(), lang, result.score))
    if in_dialog:  # not an answer in another language: the dialog goes on in the user's
        lang = session.language
    related = [(Button(e.title(lang), actions.encode(actions.FaqShow(e.id))),) for e, _ in result.alternatives[:3]]
    text_ = t(lang, "faq.unsure") + "\n" + t(lang, "faq.related" if related else "faq.nothing_related")
    related.append((Button(t(lang, "btn.human"), _PERSON),))
    back = Button(t(lang, "btn.menu"), actions.menu("menu"))
    if in_dialog:  # the router asks the open question again right below
        out.resolved = False
        out.replies.append(Reply(text_, tuple(related), False, "faq.miss"))
    else:
        out.replies.append(Reply(text_, (*related, (back,)), False, "faq.miss"))
    out.log.append(LogEntry("faq", session.active, {"topic": None, "score": round(result.score, 3)}))
    return out


def press(session: Session, action: actions.FaqShow | actions.FaqFeedback, out: Outcome) -> bool:
    """An FAQ entry chosen, or feedback on one; False when the entry no longer exists."""
    lang = session.language
    name = action.entry
    titled = isinstance(action, actions.FaqFeedback) and name.endswith(_TITLED)
    entry = faq_index().get(name.removesuffix(_TITLED) if titled else name)
    if entry is None:
        return False
    in_dialog = session.active is not None
    if isinstance(action, actions.FaqShow):
        out.replies.append(answer_reply(entry, lang, in_dialog))
        out.log.append(LogEntry("faq", session.active, {"topic": entry.id, "chosen": True}))
        return True
    helpful = action.helpful == "1"
    out.effects.append(RecordFaqFeedback(entry.id, helpful))
    out.toast = t(lang, "faq.thanks")
    again = answer_reply(entry, lang, in_dialog, edit=True, feedback=False, person=not helpful, titled=titled)
    out.replies.append(again)
    return True


def _pressed(flow: Flow, session: Session, action: actions.FaqShow | actions.FaqFeedback, out: Outcome) -> None:
    if not press(session, action, out):  # an entry that no longer exists
        flow.stale(session, out)


FEATURE = Feature("faq", buttons={actions.FaqShow: _pressed, actions.FaqFeedback: _pressed})
