"""What the dialogs need from storage, as a protocol: the router never imports SQL.

storage/user_data.py implements it on the turn's own connection, so whatever a turn reads or
writes is part of that turn's single transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from knowledge.progress import PlannedReminder, Stage
from knowledge.service_codes import CodeOrigin, CodeStatus


@dataclass(frozen=True)
class CodeRecord:
    id: int
    code: str
    product: str  # ecs, sas or other
    instance: str | None
    paid: bool
    origin: CodeOrigin
    status: CodeStatus


@dataclass(frozen=True)
class CodeChange:
    from_status: CodeStatus | None
    to_status: CodeStatus
    at: datetime


@dataclass(frozen=True)
class ProgressRecord:
    stage: Stage
    dates: dict[Stage, datetime] = field(default_factory=dict)
    reminders_enabled: bool = True


class UserData(Protocol):
    def list_codes(self) -> list[CodeRecord]: ...
    def get_code(self, code_id: int) -> CodeRecord | None: ...
    def find_code(self, code: str) -> CodeRecord | None: ...
    def code_history(self, code_id: int) -> list[CodeChange]: ...
    def count_free_codes(self, instance: str) -> int: ...
    def add_code(
        self, code: str, product: str, instance: str | None, paid: bool, origin: CodeOrigin, at: datetime
    ) -> CodeRecord: ...
    def set_code_status(self, code_id: int, old: CodeStatus, new: CodeStatus, at: datetime) -> None: ...
    def progress(self) -> ProgressRecord: ...
    def set_stage(self, stage: Stage, at: datetime, planned: Sequence[PlannedReminder]) -> None: ...
    def set_reminders_enabled(self, enabled: bool) -> None: ...
    def record_faq_feedback(self, topic: str, helpful: bool, at: datetime) -> None: ...
    def record_faq_miss(self, question: str, language: str, score: float, at: datetime) -> None: ...
    def open_ticket(self, user_name: str, reason: str, at: datetime) -> tuple[int, int]: ...
    def queue_relay(self, ticket_id: int, message_id: int, at: datetime) -> int: ...
    def end_ticket(self, ticket_id: int, at: datetime, note: str | None) -> bool: ...
    def rate_ticket(self, ticket_id: int, rating: int) -> bool: ...
    def forget(self) -> None: ...
