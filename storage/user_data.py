"""UserData on a SQLAlchemy connection: one user's codes, progress and reminders, inside a turn."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, delete, func, select, update

from dialogs.ports import CodeChange, CodeRecord, ProgressRecord
from knowledge.progress import STAGES, PlannedReminder, Stage, still_relevant
from knowledge.service_codes import CodeOrigin, CodeStatus, redact, redacted
from storage import outbox, support
from storage.models import FaqFeedback, FaqMiss, FilingStage, Reminder, ServiceCode, ServiceCodeChange, Turn, User
from storage.sql import upsert

CODE_COLUMNS = (
    ServiceCode.c.id,
    ServiceCode.c.code,
    ServiceCode.c.product,
    ServiceCode.c.instance,
    ServiceCode.c.paid,
    ServiceCode.c.origin,
    ServiceCode.c.status,
)


def _code(row: object) -> CodeRecord:
    r = row._mapping  # type: ignore[attr-defined]
    return CodeRecord(
        r["id"],
        r["code"],
        r["product"],
        r["instance"],
        bool(r["paid"]),
        CodeOrigin(r["origin"]),
        CodeStatus(r["status"]),
    )


class SqlUserData:
    def __init__(self, conn: Connection, user_id: int) -> None:
        self.conn = conn
        self.user_id = user_id

    # --- service codes ---------------------------------------------------------------------
    def list_codes(self) -> list[CodeRecord]:
        rows = self.conn.execute(
            select(*CODE_COLUMNS).where(ServiceCode.c.user_id == self.user_id).order_by(ServiceCode.c.id)
        )
        return [_code(r) for r in rows]

    def get_code(self, code_id: int) -> CodeRecord | None:
        row = self.conn.execute(
            select(*CODE_COLUMNS).where(ServiceCode.c.user_id == self.user_id, ServiceCode.c.id == code_id)
        ).first()
        return _code(row) if row else None

    def find_code(self, code: str) -> CodeRecord | None:
        row = self.conn.execute(
            select(*CODE_COLUMNS).where(  # case does not make another code
                ServiceCode.c.user_id == self.user_id, func.lower(ServiceCode.c.code) == code.lower()
            )
        ).first()
        return _code(row) if row else None

    def code_history(self, code_id: int) -> list[CodeChange]:
        rows = self.conn.execute(
            select(ServiceCodeChange.c.from_status, ServiceCodeChange.c.to_status, ServiceCodeChange.c.at)
            .join(ServiceCode, ServiceCode.c.id == ServiceCodeChange.c.code_id)
            .where(ServiceCode.c.user_id == self.user_id, ServiceCodeChange.c.code_id == code_id)
            .order_by(ServiceCodeChange.c.id)
        )
        return [CodeChange(CodeStatus(f) if f else None, CodeStatus(t), at) for f, t, at in rows]

    def count_free_codes(self, instance: str) -> int:
        return self.conn.execute(
            select(func.count())
            .select_from(ServiceCode)
            .where(
                ServiceCode.c.user_id == self.user_id, ServiceCode.c.instance == instance, ServiceCode.c.paid.is_(False)
            )
        ).scalar_one()

    def add_code(
        self,
        code: str,
        product: str,
        instance: str | None,
        paid: bool,
        origin: CodeOrigin,
        at: datetime,
        status: CodeStatus = CodeStatus.AVAILABLE,
    ) -> CodeRecord:
        code_id = self.conn.execute(
            ServiceCode.insert()
            .values(
                user_id=self.user_id,
                code=code,
                product=product,
                instance=instance,
                paid=paid,
                origin=origin.value,
                status=status.value,
                created_at=at,
                updated_at=at,
            )
            .returning(ServiceCode.c.id)
        ).scalar_one()
        self.conn.execute(
            ServiceCodeChange.insert().values(code_id=code_id, from_status=None, to_status=status.value, at=at)
        )
        return CodeRecord(code_id, code, product, instance, paid, origin, status)

    def set_code_status(self, code_id: int, old: CodeStatus, new: CodeStatus, at: datetime) -> None:
        changed = self.conn.execute(
            update(ServiceCode)
            .where(
                ServiceCode.c.id == code_id, ServiceCode.c.user_id == self.user_id, ServiceCode.c.status == old.value
            )
            .values(status=new.value, updated_at=at)
        ).rowcount
        if changed != 1:  # the status moved under us: the caller re-reads and refuses
            raise LookupError(f"code {code_id} is no longer {old}")
        self.conn.execute(
            ServiceCodeChange.insert().values(code_id=code_id, from_status=old.value, to_status=new.value, at=at)
        )

    def delete_code(self, code_id: int) -> bool:
        """Delete one of the user's codes and its history; False when it is not theirs (or gone).
        What the user typed before the code was recorded is masked for staff when they read it,
        against the codes on record: so the code is masked for good in what was stored first."""
        code = self.conn.execute(
            select(ServiceCode.c.code).where(ServiceCode.c.id == code_id, ServiceCode.c.user_id == self.user_id)
        ).scalar()
        if code is None:
            return False
        self._mask_stored(code)
        self.conn.execute(delete(ServiceCodeChange).where(ServiceCodeChange.c.code_id == code_id))
        self.conn.execute(delete(ServiceCode).where(ServiceCode.c.id == code_id))
        return True

    def _mask_stored(self, code: str) -> None:
        """The code masked in the user's turn log and unanswered questions, where staff read them."""
        for turn_id, data in self.conn.execute(select(Turn.c.id, Turn.c.data).where(Turn.c.user_id == self.user_id)):
            masked = redacted(data, [code])
            if masked != data:
                self.conn.execute(update(Turn).where(Turn.c.id == turn_id).values(data=masked))
        misses = select(FaqMiss.c.id, FaqMiss.c.question).where(FaqMiss.c.user_id == self.user_id)
        for miss_id, question in self.conn.execute(misses):
            masked_question = redact(question, [code])
            if masked_question != question:
                self.conn.execute(update(FaqMiss).where(FaqMiss.c.id == miss_id).values(question=masked_question))

    # --- filing progress and reminders -------------------------------------------------------
    def progress(self) -> ProgressRecord:
        rows = self.conn.execute(
            select(FilingStage.c.stage, FilingStage.c.reached_at)
            .where(FilingStage.c.user_id == self.user_id)
            .order_by(FilingStage.c.position)
        ).all()
        enabled = self.conn.execute(select(User.c.reminders_enabled).where(User.c.id == self.user_id)).scalar()
        dates = {Stage(stage): at for stage, at in rows}
        current = max(dates, key=STAGES.index) if dates else Stage.PREPARING
        return ProgressRecord(current, dates, bool(enabled) if enabled is not None else True)

    def set_stage(self, stage: Stage, at: datetime, planned: Sequence[PlannedReminder]) -> None:
        position = STAGES.index(stage)
        self.conn.execute(
            delete(FilingStage).where(FilingStage.c.user_id == self.user_id, FilingStage.c.position >= position)
        )
        self.conn.execute(
            FilingStage.insert().values(user_id=self.user_id, stage=stage.value, position=position, reached_at=at)
        )
        # Unsent reminders that no longer fit where the user stands are dropped, and so are this
        # stage's own that are no longer planned (a stage dated back: their time has passed).
        pending = self.conn.execute(
            select(Reminder.c.id, Reminder.c.stage, Reminder.c.kind).where(
                Reminder.c.user_id == self.user_id, Reminder.c.sent_at.is_(None)
            )
        ).all()
        kept = {p.kind.value for p in planned}
        stale = [
            rid
            for rid, rstage, kind in pending
            if not still_relevant(Stage(rstage), stage) or (rstage == stage.value and kind not in kept)
        ]
        if stale:
            self.conn.execute(delete(Reminder).where(Reminder.c.id.in_(stale)))
        for p in planned:
            values = {
                "stage": p.stage.value,
                "due_at": p.due_at,
                "params": {"since": at.isoformat()},
                "claimed_by": None,
                "claimed_until": None,
                "attempts": 0,
                "sent_at": None,
            }
            stmt = upsert(self.conn, Reminder).values(user_id=self.user_id, kind=p.kind.value, **values)
            self.conn.execute(stmt.on_conflict_do_update(index_elements=["user_id", "kind"], set_=values))

    def redate_stage(self, stage: Stage, at: datetime) -> None:
        self.conn.execute(
            update(FilingStage)
            .where(FilingStage.c.user_id == self.user_id, FilingStage.c.stage == stage.value)
            .values(reached_at=at)
        )

    def set_reminders_enabled(self, enabled: bool) -> None:
        self.conn.execute(update(User).where(User.c.id == self.user_id).values(reminders_enabled=enabled))

    def record_faq_feedback(self, topic: str, helpful: bool, at: datetime) -> None:
        self.conn.execute(
            FaqFeedback.insert().values(user_id=self.user_id, topic=topic[:64], helpful=helpful, created_at=at)
        )

    def record_faq_miss(self, question: str, language: str, score: float, at: datetime) -> None:
        shown = redact(question, [c.code for c in self.list_codes()])[:1000]  # read by staff
        self.conn.execute(
            FaqMiss.insert().values(user_id=self.user_id, question=shown, language=language, score=score, created_at=at)
        )

    def ticket_is_open(self, ticket_id: int) -> bool:
        ticket = support.get_ticket(self.conn, ticket_id)
        return ticket is not None and ticket.user_id == self.user_id and ticket.status in support.ACTIVE

    def find_active_ticket(self) -> int | None:
        return support.active_ticket_of(self.conn, self.user_id)

    def ticket_is_claimed(self, ticket_id: int) -> bool:
        ticket = support.get_ticket(self.conn, ticket_id)
        return ticket is not None and ticket.user_id == self.user_id and ticket.claimed_by is not None

    def can_rate(self, ticket_id: int) -> bool:
        return support.can_rate(self.conn, self.user_id, ticket_id)

    def waiting_tickets(self) -> int:
        return support.waiting_tickets(self.conn)

    # --- writes: only storage/effects.py calls these, when it applies a turn's effects -----------
    def open_ticket(self, user_name: str, reason: str, at: datetime, attach: bool = True) -> int:
        return support.open_ticket(self.conn, self.user_id, user_name, reason, at, attach)

    def attach_ticket(self, ticket_id: int) -> None:
        support.attach_ticket(self.conn, self.user_id, ticket_id)

    def claim_ticket(self, ticket_id: int, staff_id: int, at: datetime, attach: bool) -> tuple[bool, int | None]:
        ticket = support.get_ticket(self.conn, ticket_id)
        if ticket is None or ticket.user_id != self.user_id:
            return False, None
        won, holder = support.claim(self.conn, ticket_id, staff_id, at)
        if attach and ticket.status in support.ACTIVE:
            support.attach_ticket(self.conn, self.user_id, ticket_id)
        return won, holder

    def queue_relay(self, ticket_id: int, message_id: int, at: datetime) -> int:
        return support.queue_relay_in(self.conn, ticket_id, self.user_id, message_id, at)

    def end_ticket(self, ticket_id: int, at: datetime, note: str | None, by_user: bool = False) -> bool:
        ticket = support.get_ticket(self.conn, ticket_id)
        if ticket is None or ticket.user_id != self.user_id:
            return False
        return support.close_ticket(self.conn, ticket_id, at, note, by_user) is not None

    def rate_ticket(self, ticket_id: int, rating: int) -> bool:
        return support.rate_ticket(self.conn, self.user_id, ticket_id, rating)

    def forget(self) -> None:
        # ON DELETE CASCADE takes dialog states, turns, codes and their history, stages, reminders;
        # replies still owed to the chat may quote a code.
        self.conn.execute(delete(User).where(User.c.id == self.user_id))
        outbox.forget_chat(self.conn, self.user_id)
