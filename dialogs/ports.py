"""What the dialogs read from storage, as a protocol: the router never imports SQL.

storage/user_data.py implements it on the turn's own connection, so whatever a turn reads is part
of that turn's single transaction; what it changes, it returns as effects (dialogs/effects.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from knowledge.progress import Stage
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
    """Read-only: what a turn decides to change it returns as effects (dialogs/effects.py)."""

    def list_codes(self) -> list[CodeRecord]: ...
    def get_code(self, code_id: int) -> CodeRecord | None: ...
    def find_code(self, code: str) -> CodeRecord | None: ...
    def code_history(self, code_id: int) -> list[CodeChange]: ...
    def count_free_codes(self, instance: str) -> int: ...
    def progress(self) -> ProgressRecord: ...
    def ticket_is_open(self, ticket_id: int) -> bool: ...  # the user's own, not yet closed
    def find_active_ticket(self) -> int | None: ...  # the user's newest ticket not yet closed, attached or not
    def can_rate(self, ticket_id: int) -> bool: ...  # the user's own, closed, not yet rated
    def ticket_is_claimed(self, ticket_id: int) -> bool: ...  # a person took it (and so may have answered)
    def waiting_tickets(self) -> int: ...  # tickets nobody has claimed yet, all users
