"""Apply a turn's effects (dialogs/effects.py) inside the turn's transaction, in the order decided.

The one place a turn writes anything beyond the session and its log. What an effect creates and
the turn must report (a ticket to post, a message to relay) is filled into the outcome here.
"""

from __future__ import annotations

from dialogs.effects import (
    AddCode,
    ClaimTicket,
    DeleteCode,
    EndTicket,
    ForgetUser,
    OpenTicket,
    QueueRelay,
    RateTicket,
    RecordFaqFeedback,
    RecordFaqMiss,
    RedateStage,
    SetCodeStatus,
    SetReminders,
    SetStage,
)
from dialogs.screens import LogEntry, Outcome
from dialogs.session import Session
from storage.user_data import SqlUserData


def apply_effects(data: SqlUserData, session: Session, outcome: Outcome) -> None:
    now = session.now
    for effect in outcome.effects:
        match effect:
            case AddCode(code=code, product=product, instance=instance, paid=paid, origin=origin, status=status):
                data.add_code(code, product, instance, paid, origin, now, status)
            case SetCodeStatus(code_id=code_id, old=old, new=new):
                data.set_code_status(code_id, old, new, now)
            case DeleteCode(code_id=code_id):
                data.delete_code(code_id)
            case SetStage(stage=stage, at=at, planned=planned):
                data.set_stage(stage, at, planned)
            case RedateStage(stage=stage, at=at):
                data.redate_stage(stage, at)
            case SetReminders(enabled=enabled):
                data.set_reminders_enabled(enabled)
            case RecordFaqFeedback(topic=topic, helpful=helpful):
                data.record_faq_feedback(topic, helpful, now)
            case RecordFaqMiss(question=question, language=language, score=score):
                data.record_faq_miss(question, language, score, now)
            case OpenTicket(reason=reason, dialog=dialog, relay=relay, kept=kept):
                if kept is not None:
                    ticket_id = kept
                    data.attach_ticket(kept)
                else:
                    ticket_id = data.open_ticket(session.display_name, reason, now, attach=relay)
                if relay:
                    session.ticket_id = outcome.handoff = ticket_id
                outcome.log.append(LogEntry("handoff", dialog, {"ticket": ticket_id, "reason": reason}))
            case ClaimTicket(ticket_id=ticket_id, staff_id=staff_id, attach=attach):
                outcome.claimed = data.claim_ticket(ticket_id, staff_id, now, attach)
            case QueueRelay(ticket_id=ticket_id, message_id=message_id):
                outcome.relays.append(data.queue_relay(ticket_id, message_id, now))
            case EndTicket(ticket_id=ticket_id, note=note, by_user=by_user):
                data.end_ticket(ticket_id, now, note, by_user)
            case RateTicket(ticket_id=ticket_id, rating=rating):
                data.rate_ticket(ticket_id, rating)
            case ForgetUser():
                data.forget()
