"""The command line: the seeds' scenarios answered right, bad input refused in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from dialogs.registry import dialogs
from knowledge.texts import t

ROOT = Path(__file__).resolve().parents[1]


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


ECS_OK = [
    "check",
    "--location",
    "mainland",
    "--provider",
    "alibaba",
    "--product",
    "ecs",
    "--billing",
    "subscription",
    "--months",
    "3",
    "--public-bandwidth",
    "yes",
]


def test_eligible_ecs(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(capsys, *ECS_OK)
    assert out["filing_required"] is True and out["eligible"] is True and out["free_service_codes"] == 5
    assert "req.months_ok" in out["rules"] and all(isinstance(r, str) for r in out["reasons"] + out["next_steps"])


def test_two_months_is_too_short(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [a if a != "3" else "2" for a in ECS_OK]
    out = run_json(capsys, *argv)
    assert out["eligible"] is False and "req.months_short" in out["rules"] and out["free_service_codes"] is None


def test_hong_kong_needs_no_filing(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(
        capsys,
        "check",
        "--location",
        "hong-kong",
        "--provider",
        "alibaba",
        "--product",
        "ecs",
        "--billing",
        "pay-as-you-go",
        "--months",
        "1",
        "--public-bandwidth",
        "no",
    )
    assert out["filing_required"] is False and out["eligible"] is None and out["free_service_codes"] is None


@pytest.mark.parametrize(
    ("product", "rule"),
    [
        ("slb", "slb.next"),
        ("ack", "ack_acs.next"),
        ("acs", "ack_acs.next"),
        ("oss", "next.get_miit_number"),
        ("cdn", "cdn.origin_warning"),
        ("waf", "waf.reason"),
        ("anti-ddos", "antiddos.reason"),
    ],
)
def test_products_without_service_codes(capsys: pytest.CaptureFixture[str], product: str, rule: str) -> None:
    out = run_json(capsys, "check", "--location", "mainland", "--provider", "alibaba", "--product", product)
    assert out["eligible"] is False and rule in out["rules"]


def test_public_bandwidth_only_matters_for_ecs(capsys: pytest.CaptureFixture[str]) -> None:
    base = [
        "check",
        "--location",
        "mainland",
        "--provider",
        "alibaba",
        "--product",
        "sas",
        "--billing",
        "subscription",
        "--months",
        "12",
    ]
    assert run_json(capsys, *base, "--public-bandwidth", "no")["eligible"] is True


def test_another_vendor_with_an_alibaba_product_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """Contradictory options: a one-line error, not a verdict about another vendor's server."""
    argv = ["check", "--location", "mainland", "--provider", "other", "--product", "ecs"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--product" in err and "--provider other" in err


@pytest.mark.parametrize(
    ("argv", "headline"),
    [
        (["--location", "mainland", "--provider", "other"], "verdict.not_eligible_vendor"),
        (["--location", "mainland", "--provider", "alibaba", "--product", "cdn"], "verdict.domain_product"),
        (["--location", "overseas"], "verdict.not_required"),
    ],
)
def test_the_check_headline_is_the_chats(capsys: pytest.CaptureFixture[str], argv: list[str], headline: str) -> None:
    """Another vendor's server was told it 'cannot back a filing as it is', as if a change would do."""
    assert main(["check", *argv]) == 0
    assert capsys.readouterr().out.splitlines()[0] == t("en", headline)


def test_chinese_output(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_json(capsys, *ECS_OK, "--lang", "zh")
    assert "累计购买时长为 3 个月" in " ".join(out["reasons"])


@pytest.mark.parametrize(
    ("flags", "kind", "with_alibaba"),
    [
        (["no", "no", "no"], "first_filing", False),
        (["no", "yes", "no"], "add_service", False),
        (["no", "yes", "yes"], "add_access", False),
        (["yes", "yes", "no"], "add_service", True),
        (["yes", "yes", "yes"], "add_access", True),
    ],
)
def test_filing_type(capsys: pytest.CaptureFixture[str], flags: list[str], kind: str, with_alibaba: bool) -> None:
    out = run_json(
        capsys,
        "filing-type",
        "--entity-filed-with-alibaba",
        flags[0],
        "--entity-has-miit-record",
        flags[1],
        "--website-filed-with-miit",
        flags[2],
    )
    assert out["filing_type"] == kind and out["entity_with_alibaba"] is with_alibaba and out["explanation"]


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--location", "moon"],
        ["check", "--location", "mainland", "--provider", "alibaba", "--product", "ecs", "--billing", "subscription"],
        ["check", "--location", "mainland", "--months", "0"],
        ["check", "--location", "mainland", "--months", "three"],
        ["check", "--location", "mainland", "--public-bandwidth", "maybe"],
        [
            "filing-type",
            "--entity-filed-with-alibaba",
            "yes",
            "--entity-has-miit-record",
            "no",
            "--website-filed-with-miit",
            "no",
        ],
        [
            "filing-type",
            "--entity-filed-with-alibaba",
            "no",
            "--entity-has-miit-record",
            "no",
            "--website-filed-with-miit",
            "yes",
        ],
        ["frobnicate"],
    ],
)
def test_bad_arguments_exit_nonzero_with_one_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def run_module(*argv: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_", "LOG_"))}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env=full_env,
        cwd=cwd or ROOT,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        ({"TELEGRAM_BOT_TOKEN": "not-a-token"}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_API_BASE_URL": "ftp://x"}, "TELEGRAM_API_BASE_URL"),
        ({"DEFAULT_LANGUAGE": "fr"}, "DEFAULT_LANGUAGE"),
        ({}, "TELEGRAM_BOT_TOKEN"),
    ],
)
def test_bad_configuration_stops_with_one_line_naming_the_setting(
    tmp_path: Path, env: dict[str, str], setting: str
) -> None:
    result = run_module("run", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and setting in result.stderr, result.stderr


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    result = run_module("db", "upgrade", env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none"}, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "database error" in result.stderr


def test_terminal_chat_runs_on_the_default_database(tmp_path: Path) -> None:
    script = "1\n1\n1\n1\n1\n#5\n1\nquit\n"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))},
    )
    assert result.returncode == 0, result.stderr
    assert "Yes: this server can back an ICP filing" in result.stdout
    assert (tmp_path / "icpbot.db").exists()
    # a fresh start says in one line that it set up the database, not a screenful of Alembic's steps
    assert "alembic" not in result.stderr and result.stderr.count("schema upgraded") == 1, result.stderr


def test_diagram_prints_mermaid() -> None:
    result = run_module("diagram")
    assert result.returncode == 0 and result.stdout.count("stateDiagram-v2") == len(dialogs()) + 1


def test_a_reader_that_stops_early_is_no_error(tmp_path: Path) -> None:
    """`python -m bot diagram | head -1`: the pipe closes; nothing is printed about it."""
    result = subprocess.run(
        f"'{sys.executable}' -m bot diagram | head -1", shell=True, capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.stdout == "# Dialogs\n" and result.stderr == "", result.stderr
    piped = subprocess.run(
        f"set -o pipefail; '{sys.executable}' -m bot diagram | head -1",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        cwd=ROOT,
        timeout=60,
    )
    assert piped.returncode == 0


@pytest.mark.parametrize("limit", ["0", "-1", "many"])
def test_faq_misses_limit_must_be_positive(tmp_path: Path, limit: str) -> None:
    result = run_module("faq", "misses", "--limit", limit, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "1 or more" in result.stderr, result.stderr


async def test_terminal_chat_reads_a_command_with_the_bots_name_and_a_numbered_choice(sqlite_url: str) -> None:
    """'/help@icpbot' (as a Telegram client may send it) was an unknown command in the terminal."""
    import io

    from bot.app import build_service
    from bot.config import Settings
    from bot.terminal import TerminalChat

    service = build_service(Settings(database_url=sqlite_url))  # type: ignore[call-arg]
    await service.db.upgrade()
    out = io.StringIO()
    try:
        script = "/help@icpbot\n/Check@icpbot now\n1.\nquit\n"  # and "1." is choice 1, as lists are written
        await TerminalChat(service, 7, "en", out).run(io.StringIO(script))
    finally:
        await service.db.dispose()
    assert "know that command" not in out.getvalue()
    assert "/ready - " in out.getvalue() and "Where is your server?" in out.getvalue()
    assert "Who provides the server?" in out.getvalue()


async def test_terminal_chat_keeps_every_replys_buttons_choosable(sqlite_url: str) -> None:
    import io

    from bot.app import build_service
    from bot.config import Settings
    from bot.terminal import TerminalChat

    service = build_service(Settings(database_url=sqlite_url))  # type: ignore[call-arg]
    await service.db.upgrade()
    out = io.StringIO()
    try:
        # An FAQ miss inside /check: the related topics are in one reply, the open question in the next.
        script = "/check\nhow do I install nginx on ECS\n1\nquit\n"
        await TerminalChat(service, 7, "en", out).run(io.StringIO(script))
    finally:
        await service.db.dispose()
    text = out.getvalue()
    miss = text[text.index("not one of the answers") :]
    assert "[1] " in miss.split("\n\n")[0]  # numbered under the reply that offers them
    assert "💡" in text[text.index("> ", text.index("not one of the answers")) :]  # choice 1 answered it


async def test_the_terminal_chat_saves_a_sent_document_as_a_file(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from bot.app import build_service
    from bot.config import Settings
    from bot.terminal import TerminalChat

    monkeypatch.chdir(tmp_path)
    service = build_service(Settings(database_url=sqlite_url))  # type: ignore[call-arg]
    await service.db.upgrade()
    out = io.StringIO()
    server = ["Chinese mainland", "Alibaba Cloud", "ECS", "Subscription", "6 months", "Yes"]
    ready = [
        "International site",
        "Yes",
        "An individual",
        "No",
        "Yes",
        "Yes",
        "General",
        "No",
        "The account I file with",
    ]
    script = "\n".join(["/check", *server, "/ready", *ready, "My plan as a document (English + 中文)", "quit"]) + "\n"
    try:
        await TerminalChat(service, 8, "en", out).run(io.StringIO(script))
    finally:
        await service.db.dispose()
    saved = tmp_path / "icp-filing-plan.pdf"
    assert f"(file saved: {saved})" in out.getvalue(), out.getvalue()[-2000:]
    assert saved.read_bytes().startswith(b"%PDF")


def test_ask_answers_every_part_of_a_question(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "do I need special approval for a medical site, and what documents do I need?"]) == 0
    out = capsys.readouterr().out
    assert "[pre-approval," in out and "[documents," in out


def test_ctrl_c_quits_the_terminal_chat_at_once(tmp_path: Path) -> None:
    """Ctrl-C while the chat waits for a line: the program ends, without waiting for input."""
    import signal
    import time

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat"],
        stdin=subprocess.PIPE,  # left open: the chat waits for a line that never comes
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
        env=env,
        # As in a terminal's foreground: a runner that started us in the background (SIGINT
        # ignored, inherited across exec) would otherwise make the chat deaf to Ctrl-C.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert proc.stdout is not None
        seen = b""
        deadline = time.monotonic() + 60
        while b"> " not in seen and time.monotonic() < deadline:  # the first prompt: it is waiting
            seen += proc.stdout.read1(4096)
        assert b"> " in seen, seen[-500:]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0  # ends by itself, with no line typed
    finally:
        proc.kill()
