"""Tables. Nothing SQLite-only: the same tables serve SQLite and PostgreSQL.

SQLAlchemy Core tables, not ORM classes: every query in the project is Core (statements on a
`Connection`), and the ORM's import and class mapping cost a sixth of the bot's start-up.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
    UniqueConstraint,
)

metadata = MetaData()

# On SQLite an INTEGER PRIMARY KEY is the rowid: one B-tree, and auto-incremented where asked;
# PostgreSQL gets a BIGINT (an identity where auto-incremented).
BigIntId = BigInteger().with_variant(Integer, "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, on every database. SQLite keeps no offset and hands back
    naive values; those are UTC here, and are returned as such."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC value")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- column helpers: the same few shapes recur in every table ---------------------------------
def _id() -> Column[int]:
    return Column("id", BigIntId, primary_key=True, autoincrement=True)


def _user_id(**kw: Any) -> Column[int]:
    kw.setdefault("nullable", False)
    return Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), **kw)


def _text(name: str, length: int, nullable: bool = False, **kw: Any) -> Column[str]:
    return Column(name, String(length), nullable=nullable, **kw)


def _when(name: str, nullable: bool = True, **kw: Any) -> Column[datetime]:
    return Column(name, UTCDateTime(), nullable=nullable, **kw)


def _stamp(name: str = "created_at", **kw: Any) -> Column[datetime]:
    """Set when the row is written, unless the statement gives a value."""
    return _when(name, nullable=False, default=utcnow, **kw)


def _count(name: str) -> Column[int]:
    return Column(name, Integer, nullable=False, default=0)


def _json(name: str) -> Column[Any]:
    return Column(name, JSON, nullable=False)


User = Table(
    "users",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),  # the Telegram user id
    _text("language", 8),
    _text("active_dialog", 32, nullable=True),
    _text("last_dialog", 32, nullable=True),
    Column("reminders_enabled", Boolean, nullable=False, default=True, server_default="1"),
    _when("blocked_at"),  # the user blocked the bot: no more reminders
    Column("support_ticket_id", BigInteger),  # set while a person handles the user
    _stamp("created_at"),
    _stamp("updated_at"),
)

# Where one user stands in one dialog, with the answers so far.
DialogState = Table(
    "dialog_states",
    metadata,
    _user_id(primary_key=True),
    _text("dialog", 32, primary_key=True),
    _text("state", 32),
    _json("answers"),
    _json("history"),
    _count("version"),
    _stamp("updated_at"),
)

# The turn log: what the user sent, what they answered, what the bot concluded and showed.
Turn = Table(
    "turns",
    metadata,
    _id(),
    _user_id(),
    _text("dialog", 32, nullable=True),
    _text("kind", 16),
    _json("data"),
    _stamp(),
    Index("ix_turns_user_id_id", "user_id", "id"),
)

# A service code the user recorded. The code itself is shown in full only to its owner.
ServiceCode = Table(
    "service_codes",
    metadata,
    _id(),
    _user_id(index=True),
    _text("code", 64),
    _text("product", 16),
    _text("instance", 128, nullable=True),
    Column("paid", Boolean, nullable=False),
    _text("origin", 16),
    _text("status", 16),
    _stamp("created_at"),
    _stamp("updated_at"),
    UniqueConstraint("user_id", "code", name="uq_service_codes_user_code"),
)

# Every status a code took, with its time (from_status is None for the first).
ServiceCodeChange = Table(
    "service_code_changes",
    metadata,
    _id(),
    Column("code_id", BigInteger, ForeignKey("service_codes.id", ondelete="CASCADE"), nullable=False, index=True),
    _text("from_status", 16, nullable=True),
    _text("to_status", 16),
    _stamp("at"),
)

# When the user reached each stage of their filing; the latest row is where they stand.
FilingStage = Table(
    "filing_stages",
    metadata,
    _user_id(primary_key=True),
    _text("stage", 24, primary_key=True),
    Column("position", Integer, nullable=False),
    _stamp("reached_at"),
)

# A planned reminder. One row per user and kind; sent_at set once it went out.
Reminder = Table(
    "reminders",
    metadata,
    _id(),
    _user_id(),
    _text("kind", 24),
    _text("stage", 24),
    _when("due_at", nullable=False),
    _json("params"),
    _text("claimed_by", 64, nullable=True),
    _when("claimed_until"),
    _count("attempts"),
    _when("sent_at"),
    UniqueConstraint("user_id", "kind", name="uq_reminders_user_kind"),
    Index("ix_reminders_due", "sent_at", "due_at"),
)

# A "Did this help?" answer.
FaqFeedback = Table(
    "faq_feedback",
    metadata,
    _id(),
    _user_id(index=True),
    _text("topic", 64),
    Column("helpful", Boolean, nullable=False),
    _stamp(),
)

# A question the FAQ could not answer, for staff to read (`python -m bot faq misses`).
FaqMiss = Table(
    "faq_misses",
    metadata,
    _id(),
    _user_id(nullable=True, index=True),
    _text("question", 1000),
    _text("language", 8),
    Column("score", Float, nullable=False),
    _stamp(),
)

# A hand-off to support staff: open -> claimed -> closed.
Ticket = Table(
    "tickets",
    metadata,
    _id(),
    _user_id(index=True),
    _text("user_name", 200),
    _text("status", 16),
    _text("reason", 32),  # what brought the user: asked, faq_miss, error, ...
    _stamp(),
    Column("card_message_id", BigInteger),  # None until the staff group got the card
    Column("topic_id", BigInteger),  # the forum topic, in a forum group
    Column("claimed_by", BigInteger),
    _when("claimed_at"),
    _when("first_response_at"),
    _when("closed_at"),
    _text("close_note", 500, nullable=True),
    Column("rating", Integer),
    _count("card_attempts"),
    _when("next_card_attempt_at"),
    Index("ix_tickets_status_created", "status", "created_at"),
)

# One message carried between a user and the staff group; pending until delivered.
Relay = Table(
    "relays",
    metadata,
    _id(),
    Column("ticket_id", BigInteger, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False, index=True),
    _text("direction", 8),  # "in": user -> staff, "out": staff -> user
    Column("source_chat_id", BigInteger, nullable=False),
    Column("source_message_id", BigInteger, nullable=False),
    Column("target_chat_id", BigInteger),  # set on delivery
    Column("target_message_id", BigInteger),
    _text("status", 16),  # pending, sent, failed (gave up: the sender was told)
    _count("attempts"),
    _when("next_attempt_at"),
    _when("claimed_until"),
    _stamp(),
    _when("sent_at"),
    Index("ix_relays_pending", "status", "next_attempt_at"),
    Index("ix_relays_target", "target_chat_id", "target_message_id"),
)

# A Telegram update applied once. A redelivered update (a webhook retry, polling after a crash)
# finds its row and is not applied again. Written on every turn, so it is kept to one B-tree: on
# SQLite the update id is the rowid, appended at its right edge since Telegram's ids increase. It
# holds nothing of the user. Pruning (hourly) drops rows older than Telegram keeps an update.
ProcessedUpdate = Table(
    "processed_updates",
    metadata,
    Column("update_id", BigIntId, primary_key=True, autoincrement=False),
    _stamp(),
)

# Replies a committed turn owes a chat, until Telegram accepted them (then the row is deleted, so
# the table holds only what is owed). A row is leased to the process sending it (`claimed_by`
# until `claimed_until`); `done` counts the messages of `payload` already accepted, so a retry
# resumes after them. See storage/outbox.py. Every turn looks up what its chat is owed: indexed by
# chat, so that look-up stays a few microseconds when a Bot API outage leaves thousands of rows
# (a scan of 8,000 rows took 1.7 ms). The sender job's and a redelivery's look-ups scan: they are
# rare, and each index more is one more page written by every turn's commit.
Outbox = Table(
    "outbox",
    metadata,
    _id(),
    Column("chat_id", BigInteger, nullable=False, index=True),
    Column("update_id", BigInteger),  # the update that caused it, if any
    Column("message_id", BigInteger),  # the message whose button was pressed: edits go there
    _json("payload"),
    _count("done"),
    _count("attempts"),
    _text("claimed_by", 64, nullable=True),
    _when("claimed_until"),
    _when("next_attempt_at", nullable=False),
    _stamp(),
)
