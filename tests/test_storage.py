"""Storage on SQLite and PostgreSQL: migrations, the per-turn repository, the turn log."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from dialogs.router import Router
from dialogs.session import Command, Press
from storage import outbox
from storage.db import SCHEMA_HEAD, Database, alembic_config
from storage.models import DialogState, Outbox, ProcessedUpdate, Turn, User, metadata
from storage.sessions import load_session, recent_turns, save_session
from tests.harness import BotHarness

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _diff(conn: Connection) -> list:
    return compare_metadata(MigrationContext.configure(conn), metadata)


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


async def test_migrations_create_exactly_the_models(database_url: str) -> None:
    db = Database(database_url)
    try:
        await db.upgrade()
        await db.upgrade()  # idempotent
        assert {"users", "dialog_states", "turns", "alembic_version"} <= await db.run(_tables)
        assert await db.run(_diff) == []
    finally:
        await db.dispose()


def test_schema_head_is_the_newest_migration() -> None:
    from alembic.script import ScriptDirectory

    # Database.upgrade skips Alembic when a database is at SCHEMA_HEAD: a new migration must move it.
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == SCHEMA_HEAD


def _upgrade_to(conn: Connection, revision: str) -> None:
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, revision)


async def test_a_database_behind_head_is_still_migrated(database_url: str) -> None:
    db = Database(database_url)
    try:
        await db.run(_upgrade_to, "0004")
        assert "processed_updates" not in await db.run(_tables)
        await db.upgrade()
        assert "processed_updates" in await db.run(_tables)
        assert await db.run(_diff) == []
    finally:
        await db.dispose()


def _processed_at_0005(conn: Connection) -> None:
    conn.execute(text("INSERT INTO users (id, language, created_at, updated_at) VALUES (5, 'en', :t, :t)"), {"t": NOW})
    conn.execute(
        text(
            "INSERT INTO processed_updates (update_id, user_id, replies, created_at, delivered_at) VALUES "
            "(100, 5, :sent, :t, :t), (101, 5, :owed, :t, NULL)"
        ),
        {"sent": '{"replies": [], "toast": "sent"}', "owed": '{"replies": [], "toast": "owed"}', "t": NOW},
    )


async def test_applied_updates_are_still_known_after_migrations_0006_and_0007(database_url: str) -> None:
    """0006 rebuilds processed_updates and 0007 moves replies out of it: an update applied before
    either is still known (a redelivery is not applied again), and the outbox starts empty."""
    db = Database(database_url)
    try:
        await db.run(_upgrade_to, "0005")
        await db.run(_processed_at_0005)
        await db.upgrade()
        assert await db.run(_diff) == []
        ids = await db.run(lambda c: c.execute(select(ProcessedUpdate.c.update_id)).scalars().all())
        assert sorted(ids) == [100, 101]
        assert await db.run(lambda c: c.execute(select(func.count()).select_from(Outbox)).scalar_one()) == 0
        with pytest.raises(IntegrityError):
            await db.run(outbox.mark_processed, 101, NOW)
    finally:
        await db.dispose()


def _turn(conn: Connection, router: Router, user_id: int, event: object) -> None:
    session = load_session(conn, user_id, "zh")
    out = router.handle(session, event)  # type: ignore[arg-type]
    save_session(conn, session, out.log)


def _snapshot(conn: Connection, user_id: int) -> dict:
    user = conn.execute(select(User).where(User.c.id == user_id)).one()
    state = conn.execute(select(DialogState).where(DialogState.c.user_id == user_id)).one()
    turns = conn.execute(select(func.count()).select_from(Turn).where(Turn.c.user_id == user_id)).scalar_one()
    return {
        "lang": user.language,
        "active": user.active_dialog,
        "state": state.state,
        "answers": state.answers,
        "version": state.version,
        "turns": turns,
    }


async def test_session_round_trip_with_versions_and_turn_log(database_url: str) -> None:
    db = Database(database_url)
    router = Router()
    try:
        await db.upgrade()
        await db.run(_turn, router, 77, Command("check"))
        await db.run(_turn, router, 77, Press("d:check:location:a:mainland"))
        await db.run(_turn, router, 77, Press("d:check:provider:a:alibaba"))
        snap = await db.run(_snapshot, 77)
        assert snap["lang"] == "zh" and snap["active"] == "check" and snap["state"] == "product"
        assert snap["answers"]["location"] == "mainland" and snap["answers"]["provider"] == "alibaba"
        assert snap["version"] == 3
        turns = await db.run(recent_turns, 77, 20)
        kinds = [t["kind"] for t in turns]
        assert kinds.count("user") == 3 and kinds.count("answer") == 2 and kinds.count("bot") == 3
        answers = [t["data"] for t in turns if t["kind"] == "answer"]
        assert answers == [{"question": "location", "value": "mainland"}, {"question": "provider", "value": "alibaba"}]
    finally:
        await db.dispose()


async def test_sqlite_runs_in_wal_mode(sqlite_url: str) -> None:
    db = Database(sqlite_url, sqlite_synchronous="FULL")
    try:
        await db.upgrade()
        mode = await db.run(lambda c: c.execute(text("PRAGMA journal_mode")).scalar())
        sync = await db.run(lambda c: c.execute(text("PRAGMA synchronous")).scalar())
        assert mode == "wal" and sync == 2  # FULL
    finally:
        await db.dispose()


async def test_full_journey_through_the_application(database_url: str) -> None:
    """The same code path on both databases, driven through Telegram updates, including a restart."""
    async with BotHarness(database_url) as first:
        await first.send(5, "/check", lang="zh")
        await first.tap(5, "中国内地", lang="zh")
        await first.tap(5, "阿里云", lang="zh")
    async with BotHarness(database_url) as second:
        await second.send(5, "/start", lang="zh")
        await second.tap(5, "从上次的地方继续", lang="zh")
        await second.tap(5, "轻量应用服务器", lang="zh")
        await second.tap(5, "包年包月", lang="zh")
        calls = await second.tap(5, "3 个月", lang="zh")
        assert calls[-1].text.startswith("ℹ️ 可以")


async def test_a_write_outside_a_turn_is_what_the_next_turn_starts_from(bot: BotHarness) -> None:
    """Nothing of a user's session is kept between turns: state deleted by other code (here with
    the turn's own statements) is gone for the next turn, which no longer offers to continue."""
    from storage.sessions import _CLEAR_STATES, _SAVE_USER

    await bot.send(5, "/check")
    await bot.tap(5, "Chinese mainland")

    def wipe(conn: Connection) -> None:
        _CLEAR_STATES.run(conn, {"uid": 5})
        _SAVE_USER.run(conn, {"uid": 5, "b_language": "en", "b_active": None, "b_last": None, "b_now": NOW})

    await bot.app_service_db_run(wipe)
    calls = await bot.send(5, "/start")
    assert "Continue where I was" not in [b["text"] for b in calls[-1].buttons]


async def test_three_processes_migrating_an_empty_database_at_once_all_succeed(database_url: str) -> None:
    """Three processes starting together each find the schema missing; one migrates, the others
    wait for it (PostgreSQL: an advisory lock; SQLite: the write lock) and find it done."""
    import asyncio

    dbs = [Database(database_url) for _ in range(3)]
    try:
        await asyncio.gather(*(db.upgrade() for db in dbs))
        assert await dbs[0].run(_diff) == []
        versions = await dbs[0].run(lambda c: c.execute(text("SELECT version_num FROM alembic_version")).all())
        assert [tuple(v) for v in versions] == [(SCHEMA_HEAD,)]
    finally:
        for db in dbs:
            await db.dispose()


async def test_a_sent_mark_never_deletes_another_process_entry_that_took_the_same_id(sqlite_url: str) -> None:
    """SQLite gives a deleted row's id to the next row. Process A sent entry 1 and has not yet
    recorded it (its mark rides on its next transaction); meanwhile the row went away (the user's
    /forget, in process B) and B's next reply took id 1. A's mark must not delete B's reply."""
    from dialogs.screens import Outcome, Reply
    from storage.turns import Delivery, Turns

    a_db, b_db = Database(sqlite_url), Database(sqlite_url)
    try:
        await a_db.upgrade()
        a, b = Turns(a_db, worker="a"), Turns(b_db, worker="b")
        reply = Outcome(replies=[Reply("hello")])
        first = await a.apply(1, "en", "", lambda _s: reply, Delivery(chat_id=1, update_id=10))
        a.sent(first.outgoing[0].id)
        await b_db.run(outbox.forget_chat, 1)
        second = await b.apply(2, "en", "", lambda _s: reply, Delivery(chat_id=2, update_id=11))
        assert second.outgoing[0].id == first.outgoing[0].id  # the id was given again
        await a.flush()
        owed = await b_db.run(lambda c: c.execute(select(Outbox.c.chat_id)).scalars().all())
        assert owed == [2]
    finally:
        await a_db.dispose()
        await b_db.dispose()


def _filing_type_at_0007(conn: Connection) -> None:
    conn.execute(
        text(
            "INSERT INTO users (id, language, active_dialog, last_dialog, created_at, updated_at) "
            "VALUES (6, 'en', 'ftype', 'ftype', :t, :t)"
        ),
        {"t": NOW},
    )
    conn.execute(
        text(
            "INSERT INTO dialog_states (user_id, dialog, state, answers, history, version, updated_at) "
            "VALUES (6, 'ftype', 'entity_miit', :answers, :history, 2, :t)"
        ),
        {"answers": '{"entity_alibaba": false}', "history": '["entity_alibaba"]', "t": NOW},
    )
    conn.execute(
        text("INSERT INTO turns (user_id, dialog, kind, data, created_at) VALUES (6, 'ftype', 'user', '{}', :t)"),
        {"t": NOW},
    )


async def test_a_filing_type_dialog_stored_under_its_old_id_continues_after_migration_0008(database_url: str) -> None:
    db = Database(database_url)
    try:
        await db.run(_upgrade_to, "0007")
        await db.run(_filing_type_at_0007)
        await db.upgrade()
        session = await db.run(load_session, 6, "en")
        assert (session.active, session.last, list(session.records)) == ("filingtype", "filingtype", ["filingtype"])
        out = Router().handle(session, Command("start"))
        assert out.replies[0].buttons[0][0].data == "m:resume"  # "Continue where I was" is offered
        turns = await db.run(recent_turns, 6, 20)
        assert [t["dialog"] for t in turns] == ["filingtype"]
    finally:
        await db.dispose()


async def test_a_redelivered_update_sends_what_its_chat_was_owed_before_its_own_reply(database_url: str) -> None:
    """After a Bot API outage a chat is owed the replies to U1 and then U2; U2 delivered again sent
    its own reply at once, ahead of U1's, which nobody was sending."""
    from datetime import timedelta

    from dialogs.screens import Reply

    db = Database(database_url)
    try:
        await db.upgrade()
        until = NOW + timedelta(seconds=30)

        def scene(conn: Connection) -> None:
            for update_id, text in ((1, "first"), (2, "second")):
                entry = outbox.put(conn, 1, update_id, None, [Reply(text)], "a", until, NOW)
                outbox.release(conn, entry.id, "a", 0, NOW + timedelta(seconds=4))  # given back
            outbox.put(conn, 2, 3, None, [Reply("another chat")], "a", NOW, NOW)

        await db.run(scene)
        claimed = await db.run(outbox.claim_for_update, 2, "b", until, NOW)
        assert [(e.chat_id, e.replies[0].text) for e in claimed] == [(1, "first"), (1, "second")]
        assert await db.run(outbox.claim_for_update, 2, "c", until, NOW) == []  # "b" holds them now
    finally:
        await db.dispose()


async def test_the_sender_job_never_claims_a_reply_ahead_of_an_earlier_one_of_its_chat(database_url: str) -> None:
    """A chat's replies keep their order: while its earlier reply is held by a sender (or waits for
    its retry), the job leaves the later ones; another chat's replies are claimed as usual."""
    from datetime import timedelta

    from dialogs.screens import Reply

    db = Database(database_url)
    try:
        await db.upgrade()
        until, soon = NOW + timedelta(seconds=30), NOW + timedelta(seconds=5)

        def scene(conn: Connection) -> None:
            first = outbox.put(conn, 1, 1, None, [Reply("first")], "a", until, NOW)  # being sent by "a"
            outbox.put(conn, 1, 2, None, [Reply("second")], "a", NOW, NOW)  # "a" gave it back: due, free
            outbox.put(conn, 2, 3, None, [Reply("other chat")], "a", NOW, NOW)
            held_back = outbox.put(conn, 3, 4, None, [Reply("retry later")], "a", NOW, NOW)
            outbox.release(conn, held_back.id, "a", 0, soon)  # due only in 5 s
            outbox.put(conn, 3, 5, None, [Reply("after it")], "a", NOW, NOW)
            assert first.id

        await db.run(scene)
        claimed = await db.run(outbox.claim_due, "job", until, NOW + timedelta(seconds=1), NOW + timedelta(seconds=1))
        assert [(e.chat_id, e.replies[0].text) for e in claimed] == [(2, "other chat")]
    finally:
        await db.dispose()
