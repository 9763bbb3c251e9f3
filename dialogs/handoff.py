"""/human: hand the conversation to a person in the staff group, and back, with a rating.

While a ticket is open every event goes to `during`: messages are relayed to the staff, the bot's
dialogs wait. The staff's close arrives as a `SupportClosed` event in the user's own turn.
"""

from __future__ import annotations

from dialogs import actions
from dialogs.effects import ClaimTicket, EndTicket, OpenTicket, QueueRelay, RateTicket
from dialogs.feature import Feature, Flow, data
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
from knowledge.texts import t


def open_ticket(flow: Flow, session: Session, reason: str, out: Outcome) -> None:
    lang = session.language
    kept = data(session).find_active_ticket()  # a request kept while nobody could answer: one per user
    if not flow.staff_available:
        # The request is kept for when a team is connected, but nobody could read what the user
        # sends now: they stay with the bot, which can still help (and says so honestly).
        if kept is None:
            out.effects.append(OpenTicket(reason, session.active, relay=False))
            out.replies.append(Reply(t(lang, "handoff.no_staff"), (), False, "handoff.no_staff"))
        else:  # asked again: the same request, said as such
            out.replies.append(Reply(t(lang, "handoff.still_kept", id=kept), (), False, "handoff.no_staff"))
        out.replies.append(flow.current_screen(session))
        return
    # Storage logs it and fills out.handoff; a kept request is the one handed over now.
    out.effects.append(OpenTicket(reason, session.active, kept=kept))
    position = data(session).waiting_tickets() + (kept is None)
    out.replies.append(Reply(t(lang, "handoff.opened", n=position), (), False, "handoff.opened"))


def during(flow: Flow, session: Session, event: Event, out: Outcome) -> None:
    """A person handles the user: messages go to them, the bot's dialogs wait."""
    lang, ticket_id = session.language, session.ticket_id
    assert ticket_id is not None
    match event:
        case Command(name="cancel"):
            out.log.append(LogEntry("user", None, {"command": "cancel"}))
            _end(flow, session, ticket_id, None, "handoff.user_ended", out, by_user=True)
            out.ended_ticket = ticket_id
        case Command(name="human"):
            out.replies.append(Reply(t(lang, "handoff.already"), (), False, "handoff.already"))
        case Command(name=name):
            out.log.append(LogEntry("user", None, {"command": name}))
            out.replies.append(Reply(t(lang, "handoff.paused"), (), False, "handoff.paused"))
        case Text(message_id=int(message_id), text=text) | Unsupported(message_id=int(message_id), kind=text):
            out.log.append(LogEntry("user", None, {"relayed": text}))
            out.effects.append(QueueRelay(ticket_id, message_id))  # storage adds it to out.relays
        case Edited():  # the edit does not reach the person either
            out.log.append(LogEntry("user", None, {"edited": True}))
            out.replies.append(Reply(t(lang, "edited.ignored"), (), False, "edited.ignored"))
        case Press(data=pressed) if isinstance(rate := actions.decode(pressed), actions.Rate):
            _rate(flow, session, rate, out)
        case _:
            out.toast = t(lang, "handoff.paused")


def claimed_by_staff(flow: Flow, session: Session, event: SupportClaimed, out: Outcome) -> None:
    """A person took the ticket. A request kept while nobody could answer is handed over now, and
    the user told: from here on what they send goes to that person, not to the question they were at."""
    d = data(session)
    ticket = event.ticket_id
    attach = session.ticket_id is None and d.ticket_is_open(ticket)
    out.effects.append(ClaimTicket(ticket, event.staff_id, attach))  # storage fills out.claimed
    if attach:
        session.ticket_id = ticket
        out.replies.append(Reply(t(session.language, "handoff.taken", id=ticket), (), False, "handoff.taken"))
        out.log.append(LogEntry("handoff", session.active, {"ticket": ticket, "claimed": True}))


def closed_by_staff(flow: Flow, session: Session, event: SupportClosed, out: Outcome) -> None:
    if session.ticket_id == event.ticket_id:
        _end(flow, session, event.ticket_id, event.note, "handoff.closed", out)
    elif data(session).ticket_is_open(event.ticket_id):  # a request kept, never handed over
        out.effects.append(EndTicket(event.ticket_id, event.note))
        note = f"\n{t(session.language, 'handoff.note', note=event.note)}" if event.note else ""
        out.replies.append(Reply(t(session.language, "handoff.kept_closed") + note, (), False, "handoff.ended"))
        out.log.append(LogEntry("handoff", session.active, {"ticket": event.ticket_id, "closed": "kept"}))


def _end(
    flow: Flow, session: Session, ticket_id: int, note: str | None, key: str, out: Outcome, by_user: bool = False
) -> None:
    """Close the ticket, tell the user, show where they were, and ask for a rating."""
    lang = session.language
    if not data(session).ticket_is_open(ticket_id):
        return
    answered = data(session).ticket_is_claimed(ticket_id)
    out.effects.append(EndTicket(ticket_id, note, by_user))
    session.ticket_id = None
    if by_user and not answered:  # withdrawn before anyone took it: nothing to rate
        key = "handoff.withdrawn"
    text = t(lang, key) + (f"\n{t(lang, 'handoff.note', note=note)}" if note else "")
    out.replies.append(Reply(text, (), False, "handoff.ended"))
    if answered:
        stars = tuple(Button(n, actions.encode(actions.Rate(ticket_id, n))) for n in actions.STARS)
        out.replies.append(Reply(t(lang, "handoff.rate"), (stars,), False, "handoff.rate"))
    out.replies.append(flow.current_screen(session))
    out.log.append(LogEntry("handoff", session.active, {"ticket": ticket_id, "closed": key}))


def _rate(flow: Flow, session: Session, rate: actions.Rate, out: Outcome) -> None:
    lang = session.language
    if data(session).can_rate(rate.ticket):
        out.effects.append(RateTicket(rate.ticket, int(rate.stars)))
        out.toast = t(lang, "handoff.rated")
        out.replies.append(Reply(t(lang, "handoff.rated"), (), True, "handoff.rated"))
        out.log.append(LogEntry("handoff", None, {"ticket": rate.ticket, "rating": int(rate.stars)}))
        return
    flow.stale(session, out)  # rated already: the notice says "here is the menu", so the menu comes


def _human(flow: Flow, session: Session, out: Outcome) -> None:
    open_ticket(flow, session, "ask", out)


def _asked(flow: Flow, session: Session, action: actions.Handoff, out: Outcome) -> None:
    open_ticket(flow, session, action.reason, out)


FEATURE = Feature(
    "handoff",
    commands={"human": _human},
    buttons={actions.Handoff: _asked, actions.Rate: _rate},
    # the button's label, and what people type for a person ("human", "人工", "转人工")
    typed={
        key: actions.Handoff("ask") for key in ("btn.human", "handoff.typed.a", "handoff.typed.b", "handoff.typed.c")
    },
)
