"""Dialogs do no writes: every feature, driven through the router with no database at all, reads
through a read-only UserData and returns what it decided to change as effects."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime

from dialogs import actions
from dialogs.effects import (
    AddCode,
    ClaimTicket,
    EndTicket,
    ForgetUser,
    OpenTicket,
    QueueRelay,
    RateTicket,
    RecordFaqFeedback,
    RecordFaqMiss,
    SetCodeStatus,
    SetReminders,
    SetStage,
)
from dialogs.faq_answers import free_text
from dialogs.ports import CodeChange, CodeRecord, ProgressRecord, UserData
from dialogs.router import Router
from dialogs.screens import Outcome
from dialogs.session import Command, Press, Session, SupportClaimed, SupportClosed, Text
from knowledge.progress import Stage
from knowledge.service_codes import CodeOrigin, CodeStatus

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
CODE = CodeRecord(7, "ABCD1234EFGH", "ecs", "i-abc", False, CodeOrigin.GENERATED, CodeStatus.AVAILABLE)


class ReadOnly:
    """Stored data, as the dialogs see it: only the protocol's read methods exist here, so a
    feature that tried to write would fail with AttributeError."""

    def __init__(
        self, codes: list[CodeRecord] | None = None, tickets: dict[int, str] | None = None, kept: int | None = None
    ) -> None:
        self.codes = codes or []
        self.tickets = tickets or {}  # id -> "open" | "closed"
        self.kept = kept  # the user's own ticket not yet closed

    def list_codes(self) -> list[CodeRecord]:
        return list(self.codes)

    def get_code(self, code_id: int) -> CodeRecord | None:
        return next((c for c in self.codes if c.id == code_id), None)

    def find_code(self, code: str) -> CodeRecord | None:
        return next((c for c in self.codes if c.code == code), None)

    def code_history(self, code_id: int) -> list[CodeChange]:
        return [CodeChange(None, CodeStatus.AVAILABLE, NOW)]

    def count_free_codes(self, instance: str) -> int:
        return sum(1 for c in self.codes if c.instance == instance and not c.paid)

    def progress(self) -> ProgressRecord:
        return ProgressRecord(Stage.SUBMITTED, {Stage.PREPARING: NOW, Stage.SUBMITTED: NOW})

    def ticket_is_open(self, ticket_id: int) -> bool:
        return self.tickets.get(ticket_id) == "open"

    def ticket_is_claimed(self, ticket_id: int) -> bool:
        return self.tickets.get(ticket_id) == "claimed"

    def find_active_ticket(self) -> int | None:
        return self.kept

    def can_rate(self, ticket_id: int) -> bool:
        return self.tickets.get(ticket_id) == "closed"

    def waiting_tickets(self) -> int:
        return sum(1 for s in self.tickets.values() if s == "open")


def session(data: ReadOnly | None = None, ticket: int | None = None) -> Session:
    s = Session(1, "en", data=data or ReadOnly(), now=NOW)
    s.ticket_id = ticket
    return s


def test_the_port_has_only_reads() -> None:
    methods = [name for name, _ in inspect.getmembers(UserData, inspect.isfunction) if not name.startswith("_")]
    assert methods and all(
        name.startswith(
            ("list_", "get_", "find_", "code_history", "count_", "progress", "ticket_is_", "can_", "waiting")
        )
        for name in methods
    ), methods
    assert set(methods) <= set(dir(ReadOnly))


def test_adding_a_code_is_an_effect() -> None:
    router, s = Router(), session()
    router.handle(s, Press(actions.encode(actions.CodeAdd())))
    for text in ("ABCD9999EFGH",):
        router.handle(s, Text(text))
    router.handle(s, Press("d:addcode:product:a:ecs"))
    router.handle(s, Text("i-xyz"))
    router.handle(s, Press("d:addcode:paid:a:free"))
    router.handle(s, Press("d:addcode:origin:a:generated"))
    out = router.handle(s, Press("d:addcode:status:a:in_progress"))
    assert out.effects == [AddCode("ABCD9999EFGH", "ecs", "i-xyz", False, CodeOrigin.GENERATED, CodeStatus.IN_PROGRESS)]
    assert "****EFGH" in out.replies[-1].text


def test_a_status_change_is_an_effect_and_the_screen_shows_it_already() -> None:
    out = Router().handle(
        session(ReadOnly([CODE])),
        Press(actions.encode(actions.CodeSet(7, CodeStatus.AVAILABLE, CodeStatus.IN_PROGRESS))),
    )
    assert out.effects == [SetCodeStatus(7, CodeStatus.AVAILABLE, CodeStatus.IN_PROGRESS)]
    assert "Filing in progress" in out.replies[-1].text


def test_progress_moves_and_reminder_switches_are_effects() -> None:
    router = Router()
    out = router.handle(session(), Press(actions.encode(actions.ProgressGo(Stage.SUBMITTED, Stage.PRELIMINARY_REVIEW))))
    [effect] = out.effects
    assert isinstance(effect, SetStage) and effect.stage is Stage.PRELIMINARY_REVIEW and effect.at == NOW
    assert "▶" in out.replies[-1].text
    out = router.handle(session(), Press(actions.encode(actions.ProgressReminders("off"))))
    assert out.effects == [SetReminders(False)]


def test_faq_misses_and_feedback_are_effects() -> None:
    hooked = free_text(session(), "how do I install nginx on my laptop")
    assert hooked is not None and hooked.effects and isinstance(hooked.effects[0], RecordFaqMiss)
    out = Router(free_text).handle(session(), Press(actions.encode(actions.FaqFeedback("need-filing", "1"))))
    assert out.effects == [RecordFaqFeedback("need-filing", True)]


def test_the_hand_off_is_effects_from_opening_to_rating() -> None:
    router = Router()
    out = router.handle(session(ReadOnly(tickets={1: "open"})), Command("human"))
    assert out.effects == [OpenTicket("ask", None)] and "number 2" in out.replies[-1].text
    data = ReadOnly(tickets={5: "open"})
    out = router.handle(session(data, ticket=5), Text("hello", message_id=42))
    assert out.effects == [QueueRelay(5, 42)]
    out = router.handle(session(data, ticket=5), SupportClosed(5, "done"))
    assert out.effects == [EndTicket(5, "done")]
    out = router.handle(session(ReadOnly(tickets={5: "closed"})), Press(actions.encode(actions.Rate(5, "4"))))
    assert out.effects == [RateTicket(5, 4)]
    out = router.handle(session(ReadOnly(tickets={5: "open"})), Press(actions.encode(actions.Rate(5, "4"))))
    assert out.effects == []  # not closed yet: nothing to rate


def test_a_kept_request_is_reused_and_handed_over_when_a_person_claims_it() -> None:
    router = Router()
    out = router.handle(session(ReadOnly(tickets={3: "open"}, kept=3)), Command("human"))
    assert out.effects == [OpenTicket("ask", None, kept=3)]  # not a second ticket
    s = session(ReadOnly(tickets={3: "open"}, kept=3))
    out = router.handle(s, SupportClaimed(3, staff_id=7))
    assert out.effects == [ClaimTicket(3, 7, attach=True)] and s.ticket_id == 3
    assert "has taken your request (#3)" in out.replies[0].text
    out = router.handle(session(ReadOnly(tickets={3: "open"}, kept=3), ticket=3), SupportClaimed(3, staff_id=7))
    assert out.effects == [ClaimTicket(3, 7, attach=False)] and not out.replies  # handed over already
    out = router.handle(session(ReadOnly(tickets={3: "open"}, kept=3)), SupportClosed(3, "by email"))
    assert out.effects == [EndTicket(3, "by email")] and "by email" in out.replies[0].text


def test_forgetting_is_an_effect() -> None:
    s = session()
    out = Router().handle(s, Press(actions.encode(actions.Forget("yes"))))
    assert out.effects == [ForgetUser()] and s.forgotten


def test_a_question_answered_changes_nothing_but_the_session() -> None:
    out: Outcome = Router().handle(session(), Command("check"))
    assert out.effects == []
