"""The command line: run the bot, chat in the terminal, answer rule questions, manage the database."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure_logging
from dialogs.check import CheckDialog
from dialogs.plan_document import PlanFacts
from dialogs.plan_document import pdf as plan_pdf
from knowledge.domain import Language
from knowledge.eligibility import QUESTION_FACT, MissingFact, ServerFacts, assess
from knowledge.filing_type import ContradictoryAnswers, determine_filing_type
from knowledge.inputs import InvalidInput
from knowledge.progress import CHINA
from knowledge.readiness import CONTENT, WHENS, Readiness
from knowledge.readiness import plan as plan_of
from knowledge.texts import joined, t


def _option(fact: str) -> str:
    return "--" + fact.replace("_", "-")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {text!r}")
    return value


class UsageError(Exception):
    """Bad arguments: one line for the user, exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, no usage block
        raise UsageError(f"{self.prog}: {message}")


def _yes_no(value: str) -> bool:
    lowered = value.lower()
    if lowered not in ("yes", "no"):
        raise argparse.ArgumentTypeError(f"expected yes or no, got {value!r}")
    return lowered == "yes"


def _typed(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """A question's own parser of typed answers, as an option's type: its refusal in one line."""

    def convert(value: str) -> Any:
        try:
            parsed = parse(value) if value.strip().isdigit() else None
        except InvalidInput as exc:
            raise argparse.ArgumentTypeError(t("en", exc.key, **exc.params)) from None
        if parsed is None:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}")
        return parsed

    return convert


def _server_options(parser: argparse.ArgumentParser) -> None:
    """One option per question of /check, named after the fact it gives (knowledge.eligibility)."""
    for question in CheckDialog.questions:
        option = _option(QUESTION_FACT[question.name])
        first, prompt = question.name == CheckDialog.questions[0].name, t("en", question.prompt)
        if question.parse_typed is not None:
            parser.add_argument(option, type=_typed(question.parse_typed), required=first, metavar="N", help=prompt)
        else:
            parser.add_argument(option, choices=question.options, required=first, help=prompt)


def _filing_type_options(parser: argparse.ArgumentParser, required: bool) -> None:
    for option in ("--entity-filed-with-alibaba", "--entity-has-miit-record", "--website-filed-with-miit"):
        parser.add_argument(option, type=_yes_no, required=required, metavar="yes|no")


def _readiness_options(parser: argparse.ArgumentParser) -> None:
    yes_no: dict[str, Any] = {"type": _yes_no, "metavar": "yes|no"}
    parser.add_argument("--account-site", choices=["china", "international"])
    parser.add_argument("--identity-verified", **yes_no)
    parser.add_argument("--entity", choices=["individual", "organization"])
    parser.add_argument("--account-has-other-entity", **yes_no)
    parser.add_argument("--reads-chinese", **yes_no)
    parser.add_argument("--domain-ready", **yes_no)
    parser.add_argument("--content", choices=CONTENT)
    parser.add_argument("--pre-approval", **yes_no)
    parser.add_argument("--commercial", **yes_no)
    parser.add_argument("--server-account", choices=["same", "other-enterprise", "other-personal"])
    parser.add_argument("--cdn-origin", choices=["alibaba", "elsewhere"])


def build_parser() -> Parser:
    parser = Parser(prog="python -m bot", description="ICP-filing assistant for Telegram")
    sub = parser.add_subparsers(dest="command", parser_class=Parser)
    run = sub.add_parser("run", help="serve the bot on Telegram (long polling, or --webhook)")
    run.add_argument("--webhook", action="store_true", help="serve a webhook (WEBHOOK_URL, WEBHOOK_SECRET, PORT)")
    chat = sub.add_parser("chat", help="talk to the bot in this terminal")
    chat.add_argument("--user", type=int, default=1, help="the user id to chat as (default 1)")
    chat.add_argument("--lang", choices=["en", "zh"], help="language for a new user")

    check = sub.add_parser("check", help="can a server back an ICP filing through Alibaba Cloud?")
    _server_options(check)
    check.add_argument("--lang", choices=["en", "zh"], default="en")
    check.add_argument("--json", action="store_true")

    filingtype = sub.add_parser("filingtype", aliases=["filing-type"], help="which filing type applies?")
    _filing_type_options(filingtype, required=True)
    filingtype.add_argument("--lang", choices=["en", "zh"], default="en")
    filingtype.add_argument("--json", action="store_true")

    plan = sub.add_parser("plan", help="can I file, what stops me, and what comes before and after")
    _server_options(plan)
    _filing_type_options(plan, required=False)
    _readiness_options(plan)
    plan.add_argument("--lang", choices=["en", "zh"], default="en")
    plan.add_argument("--json", action="store_true")
    plan.add_argument("--out", help="also write the plan document (PDF, English and Chinese side by side) to this file")

    calendar = sub.add_parser("calendar", help="a user's filing deadlines as an iCalendar (.ics) file")
    calendar.add_argument("--user", type=int, required=True, help="the user's Telegram id")
    calendar.add_argument("--out", default="-", help="the file to write (default: standard output)")
    calendar.add_argument("--lang", choices=["en", "zh"], default="en")

    codes = sub.add_parser("codes", help="a user's service codes, masked (for support staff)")
    codes.add_argument("--user", type=int, required=True, help="the user's Telegram id")
    codes.add_argument("--json", action="store_true")

    ask = sub.add_parser("ask", help="answer a question from the FAQ")
    ask.add_argument("question")
    ask.add_argument("--lang", choices=["en", "zh"], help="answer language (default: the question's)")
    ask.add_argument("--json", action="store_true")

    faq = sub.add_parser("faq", help="FAQ maintenance")
    faq_sub = faq.add_subparsers(dest="faq_command", required=True, parser_class=Parser)
    misses = faq_sub.add_parser("misses", help="questions the FAQ could not answer, newest first")
    misses.add_argument("--limit", type=_positive, default=50, help="at most this many (1 or more)")
    misses.add_argument("--json", action="store_true")

    stats = sub.add_parser("stats", help="support figures: response and resolution times, ratings, open tickets")
    stats.add_argument("--json", action="store_true")

    sub.add_parser("diagram", help="print the dialogs as Mermaid state diagrams")
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"])
    return parser


# --- rule commands (no database, no Telegram) ---------------------------------------------------
def _server_answers_agree(args: argparse.Namespace, command: str) -> None:
    """Every --product is an Alibaba Cloud product: it contradicts --provider other."""
    if args.provider == "other" and args.product is not None:
        message = "--product is an Alibaba Cloud product; omit it with --provider other"
        raise UsageError(f"python -m bot {command}: {message}")


def cmd_check(args: argparse.Namespace) -> int:
    answers = {question: getattr(args, fact) for question, fact in QUESTION_FACT.items()}
    _server_answers_agree(args, "check")
    try:
        verdict = assess(ServerFacts.from_answers(answers))
    except MissingFact as exc:
        raise UsageError(f"python -m bot check: {_option(exc.fact)} is required for these answers") from None
    lang: Language = args.lang
    result = verdict.as_dict(lang)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    print(t(lang, verdict.headline))  # as the chat's result screen says it
    print(t(lang, "verdict.why"))
    for line in result["reasons"]:
        print(f"  - {line}")
    print(t(lang, "verdict.next"))
    for line in result["next_steps"]:
        print(f"  - {line}")
    if verdict.free_service_codes:
        print(t(lang, "verdict.free_codes", n=verdict.free_service_codes))
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    lang: Language = args.lang
    given = [args.entity_filed_with_alibaba, args.entity_has_miit_record, args.website_filed_with_miit]
    filing = None
    if any(v is not None for v in given):
        if any(v is None for v in given):
            raise UsageError("python -m bot plan: give all three filing-type options, or none")
        try:
            filing = determine_filing_type(*given)
        except ContradictoryAnswers as exc:
            raise UsageError(f"python -m bot plan: {exc.finding.text(lang)}") from None
    if args.pre_approval is not None and args.content in (None, "general"):
        raise UsageError("python -m bot plan: --pre-approval applies only to a --content that needs one")
    if args.cdn_origin is not None and args.product != "cdn":
        raise UsageError("python -m bot plan: --cdn-origin applies only to --product cdn")
    facts = Readiness(
        account_site=args.account_site,
        identity_verified=args.identity_verified,
        entity=args.entity,
        account_has_other_entity=args.account_has_other_entity,
        reads_chinese=args.reads_chinese,
        domain_ready=args.domain_ready,
        content=args.content,
        pre_approval=args.pre_approval,
        commercial=args.commercial,
        server_account=args.server_account,
        cdn_origin=args.cdn_origin,
    )
    answers = {question: getattr(args, fact) for question, fact in QUESTION_FACT.items()}
    _server_answers_agree(args, "plan")
    result = plan_of(answers, facts, filing)
    if args.out:
        filing_facts = (given[0], given[1], given[2]) if filing is not None else None
        document = plan_pdf(PlanFacts(answers, facts, filing_facts, datetime.now(CHINA).date()))
        try:
            Path(args.out).write_bytes(document)
        except OSError as exc:
            raise UsageError(f"python -m bot plan: cannot write {args.out}: {exc.strerror}") from None
    data = result.as_dict(lang)
    if result.verdict is not None:
        data |= {k: v for k, v in result.verdict.as_dict(lang).items() if k in ("reasons", "next_steps")}
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
        return 0
    print(t(lang, "plan.title"))
    for line in data.get("reasons", []):
        print(f"  - {line}")
    if result.filing_required is False:
        print(t(lang, "plan.not_needed"))
    elif result.ready:
        print(t(lang, "plan.ready"))
    if result.blockers:
        print(t(lang, "plan.blocked"))
        for b in data["blockers"]:
            print(f"  - {b['text']}\n    {joined(t(lang, 'plan.fix'), b['fix'])}")
    if result.unknown:
        print(t(lang, "plan.open") + " " + ", ".join(_option(f) for f in result.unknown))
    for when in WHENS:
        items = [o["text"] for o in data["obligations"] if o["when"] == when]
        if items:
            print(t(lang, f"plan.when.{when}"))
            for text in items:
                print(f"  - {text}")
    if filing is not None:
        print(t(lang, "filingtype.result", name=t(lang, f"filingtype.name.{filing.filing_type.value}")))
    if args.out:
        print(t(lang, "plan.pdf.written", path=args.out))
    return 0


def cmd_filing_type(args: argparse.Namespace) -> int:
    lang: Language = args.lang
    try:
        result = determine_filing_type(
            args.entity_filed_with_alibaba, args.entity_has_miit_record, args.website_filed_with_miit
        )
    except ContradictoryAnswers as exc:
        raise UsageError(f"python -m bot filingtype: {exc.finding.text(lang)}") from None
    data = result.as_dict(lang)
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
    else:
        print(t(lang, "filingtype.result", name=t(lang, f"filingtype.name.{result.filing_type.value}")))
        print(data["explanation"])
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from knowledge.faq import faq_index

    question = args.question.strip()
    if not question:
        raise UsageError("python -m bot ask: the question is empty")
    result = faq_index().ask(question, args.lang)
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
        return 0
    lang = result.language
    if result.entry is not None:
        print(result.entry.answer(lang))
        print(f"[{result.entry.id}, score {result.score:.2f}]")
        for part in result.more:  # the other parts of a question that asks several things
            if part.entry is not None:
                print(f"\n{part.entry.answer(lang)}\n[{part.entry.id}, score {part.score:.2f}]")
    else:
        print(t(lang, "faq.unsure"))
        for entry, score in result.alternatives:
            print(f"  - {entry.title(lang)} [{entry.id}, {score:.2f}]")
    return 0


def cmd_diagram() -> int:
    from dialogs.diagram import all_diagrams

    print(all_diagrams())
    return 0


# --- commands that use the database and/or Telegram -------------------------------------------------
async def _prepare_database(settings: Settings) -> None:
    from storage.db import Database

    db = Database(settings.database_url, settings.sqlite_synchronous)
    try:
        await db.upgrade()
    finally:
        await db.dispose()


def cmd_db_upgrade(settings: Settings) -> int:
    asyncio.run(_prepare_database(settings))
    print("database is up to date")
    return 0


def cmd_calendar(settings: Settings, user_id: int, out: str, lang: Language) -> int:
    from dialogs.calendar_file import ics
    from knowledge.deadlines import deadlines
    from storage.db import Database
    from storage.user_data import SqlUserData

    async def fetch() -> str:
        db = Database(settings.database_url, settings.sqlite_synchronous)
        try:
            await db.upgrade()
            progress = await db.run(lambda conn: SqlUserData(conn, user_id).progress())
            return ics(user_id, deadlines(progress.dates, progress.stage), lang)
        finally:
            await db.dispose()

    content = asyncio.run(fetch())
    if out == "-":
        sys.stdout.write(content)
    else:
        with open(out, "w", encoding="utf-8", newline="") as f:
            f.write(content)
        print(f"wrote {out}")
    return 0


def cmd_codes(settings: Settings, user_id: int, as_json: bool) -> int:
    from storage.db import Database
    from storage.staff_views import masked_codes

    async def fetch() -> list[dict[str, object]]:
        db = Database(settings.database_url, settings.sqlite_synchronous)
        try:
            await db.upgrade()
            return await db.run(masked_codes, user_id)
        finally:
            await db.dispose()

    codes = asyncio.run(fetch())
    if as_json:
        print(json.dumps({"user": user_id, "codes": codes}, ensure_ascii=False, default=str))
        return 0
    if not codes:
        print(f"user {user_id}: no service codes")
    for c in codes:
        source = f"{c['product']} {c['instance'] or ''}".strip()
        print(f"{c['code']}  {c['status']:<12} {source}  {'paid' if c['paid'] else 'free'}  {c['origin']}")
        for h in c["history"]:  # type: ignore[attr-defined]
            print(f"    {h['at']}  {h['from'] or '-'} -> {h['to']}")
    return 0


def cmd_faq_misses(settings: Settings, limit: int, as_json: bool) -> int:
    from storage.db import Database
    from storage.staff_views import faq_misses

    async def fetch() -> list[dict[str, object]]:
        db = Database(settings.database_url, settings.sqlite_synchronous)
        try:
            await db.upgrade()
            return await db.run(faq_misses, limit)
        finally:
            await db.dispose()

    rows = asyncio.run(fetch())
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, default=str))
        return 0
    if not rows:
        print("no unanswered questions")
    for row in rows:
        print(f"{row['at']}  [{row['language']}] {row['score']:.2f}  {row['question']}")
    return 0


def cmd_stats(settings: Settings, as_json: bool) -> int:
    from storage.db import Database
    from storage.support import stats

    async def fetch() -> dict[str, object]:
        db = Database(settings.database_url, settings.sqlite_synchronous)
        try:
            await db.upgrade()
            return await db.run(stats)
        finally:
            await db.dispose()

    figures = asyncio.run(fetch())
    if as_json:
        print(json.dumps(figures))
        return 0

    def minutes(d: object) -> str:
        d = d if isinstance(d, dict) else {}
        if not d.get("count"):
            return "none yet"
        return f"mean {d['mean_minutes']} min, median {d['median_minutes']} min over {d['count']} tickets"

    print(f"tickets: {figures['tickets']}, open tickets: {figures['open_tickets']}")
    print(f"first response: {minutes(figures['first_response'])}")
    print(f"resolution (closed by staff): {minutes(figures['resolution'])}")
    print(f"ended by the user before a resolution: {figures['cancelled_by_user']}")
    rating = figures["average_rating"]
    print(
        f"average rating: {rating} from {figures['ratings']} ratings"
        if rating is not None
        else "average rating: none yet"
    )
    return 0


def cmd_run(settings: Settings, webhook: bool = False) -> int:
    from bot.app import ALLOWED_UPDATES, assemble

    if settings.telegram_bot_token is None:
        raise ConfigError(
            "configuration error: TELEGRAM_BOT_TOKEN: not set (or run `python -m bot chat` "
            "to use the bot in this terminal)"
        )
    if webhook and settings.webhook_url is None:
        raise ConfigError("configuration error: WEBHOOK_URL: not set (required by --webhook)")
    if webhook and settings.webhook_secret is None:
        raise ConfigError("configuration error: WEBHOOK_SECRET: not set (required by --webhook)")
    asyncio.run(_prepare_database(settings))  # fail fast, with one line, if the database is unreachable
    parts = assemble(settings)
    if not webhook:
        from bot.polling import serve_polling

        asyncio.run(serve_polling(parts.app, ALLOWED_UPDATES))
        return 0
    from bot.webhook import serve

    assert settings.webhook_url is not None and settings.webhook_secret is not None
    secret = settings.webhook_secret.get_secret_value()
    asyncio.run(
        serve(
            parts.app,
            parts.service.db,
            parts.metrics,
            settings.webhook_url,
            secret,
            settings.webhook_listen,
            settings.port,
            ALLOWED_UPDATES,
        )
    )
    return 0


def cmd_chat(settings: Settings, user: int, lang: str | None) -> int:
    from bot.app import build_service
    from bot.terminal import TerminalChat

    async def chat() -> None:
        service = build_service(settings)
        try:
            await service.db.upgrade()
            await TerminalChat(service, user, lang).run()
        finally:
            await service.db.dispose()

    try:
        asyncio.run(chat())
    except KeyboardInterrupt:  # Ctrl-C: quit at once
        print()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "check":
            return cmd_check(args)
        if args.command == "plan":
            return cmd_plan(args)
        if args.command in ("filingtype", "filing-type"):
            return cmd_filing_type(args)
        if args.command == "diagram":
            return cmd_diagram()
        if args.command == "ask":
            return cmd_ask(args)
        settings = load_settings()
        configure_logging(settings)
        if args.command == "run":
            return cmd_run(settings, args.webhook)
        if args.command == "db":
            return cmd_db_upgrade(settings)
        if args.command == "calendar":
            return cmd_calendar(settings, args.user, args.out, args.lang)
        if args.command == "codes":
            return cmd_codes(settings, args.user, args.json)
        if args.command == "stats":
            return cmd_stats(settings, args.json)
        if args.command == "faq":
            return cmd_faq_misses(settings, args.limit, args.json)
        if args.command == "chat":
            return cmd_chat(settings, args.user, args.lang)
        # No command: serve Telegram when a token is set, otherwise chat in the terminal.
        if settings.telegram_bot_token is not None:
            return cmd_run(settings)
        return cmd_chat(settings, 1, None)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader stopped early (`| head`): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
    except Exception as exc:  # a database or Bot API that cannot be reached...
        from telegram.error import InvalidToken, NetworkError

        if isinstance(exc, InvalidToken):
            print("configuration error: TELEGRAM_BOT_TOKEN: rejected by the Bot API", file=sys.stderr)
            return 2
        if isinstance(exc, NetworkError):
            print(
                f"telegram error: cannot reach the Bot API ({_one_line(exc)}); check TELEGRAM_API_BASE_URL",
                file=sys.stderr,
            )
            return 1
        if _is_database_error(exc):
            print(f"database error: {_one_line(exc)} (check DATABASE_URL)", file=sys.stderr)
            return 1
        raise


def _is_database_error(exc: BaseException) -> bool:
    from sqlalchemy.exc import SQLAlchemyError

    return isinstance(exc, SQLAlchemyError | OSError | ConnectionError) or type(exc).__module__.startswith("asyncpg")


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0] if text else type(exc).__name__
