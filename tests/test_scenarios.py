"""The conversation's expected behaviour, written as scenarios in tests/scenarios/*.yaml.

Each scenario is what a user sends or presses, and what the bot must answer. It runs against the
real Application through the `bot` fixture (tests/harness.py); scenarios marked `terminal: true`
run a second time through the terminal chat (bot/terminal.py: `tap` types the label), as another user.

The format (one YAML file per topic, a list of scenarios):

    - name: an eligible ECS server, in English     # unique within the file; the test id
      lang: en                # the user's Telegram language (en, zh, ...); default en
      user: 1001              # optional: the user's id (default: one derived from the name)
      terminal: true          # optional: also type the steps in the terminal chat
      steps:
        - send: /check        # a message the user types (a command or text)
          expect:
            says: ["Where is your server"]        # each phrase is in the bot's answer to this step
            not_says: ["something went wrong"]    # none of these is
            last_says: ["..."]                    # in the last message of the answer (where the user is)
            buttons: ["Chinese mainland"]         # offered (a "✓ " mark is ignored unless written)
            only_buttons: ["Yes", "No", "« Back"] # exactly the buttons of the last screen, in order
            no_buttons: ["Refunded"]              # not offered
            toast: "earlier question"             # the notice on a pressed button
            no_toast: true                        # a pressed button gets no notice text
            document: icp-filing-plan.pdf         # a file is sent, by that name
            no_reply: true                        # no message is sent or edited
        - tap: Chinese mainland                   # press a button of the latest screen, by label
          remember: mainland                      # ...and note that button, to press it again later
        - remember: {hk: "Hong Kong (China)"}     # note a button of the latest screen, unpressed
        - press_remembered: hk                    # press a noted button, on the message it was on
        - press_stale: Alibaba Cloud              # press a button of an earlier screen, by label

A step may also carry `user:` (another user's turn) and `lang:` (the Telegram language of
that one update). Every step also checks that no handler failed ("something went wrong").
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.terminal import TerminalChat
from dialogs.screens import Outcome
from tests.harness import BotHarness, Call

SCENARIOS = Path(__file__).parent / "scenarios"
STEP_KINDS = ("send", "tap", "press_stale", "press_remembered", "remember")
EXPECT_KEYS = {
    "says",
    "not_says",
    "last_says",
    "buttons",
    "only_buttons",
    "no_buttons",
    "toast",
    "no_toast",
    "document",
    "no_reply",
}
SCENARIO_KEYS = {"name", "lang", "user", "terminal", "steps", "why"}
STEP_KEYS = {*STEP_KINDS, "expect", "user", "lang"}
ERROR_TEXTS = ("something went wrong", "出了点问题")  # error.generic, in both languages
# Terminal users get ids of their own, so a scenario's two runs never share a conversation.
TERMINAL_OFFSET = 10_000_000


# --- loading -------------------------------------------------------------------------------------
@dataclass
class Scenario:
    file: str
    name: str
    lang: str
    user: int
    terminal: bool
    steps: list[dict[str, Any]]

    @property
    def id(self) -> str:
        return f"{self.file}/{self.name}"


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def _check_shape(where: str, raw: dict[str, Any]) -> None:
    unknown = set(raw) - SCENARIO_KEYS
    assert not unknown, f"{where}: unknown keys {sorted(unknown)}"
    assert raw.get("name"), f"{where}: a scenario needs a name"
    assert isinstance(raw.get("steps"), list) and raw["steps"], f"{where}: a scenario needs steps"
    for n, step in enumerate(raw["steps"], 1):
        assert isinstance(step, dict), f"{where}, step {n}: a step is a mapping"
        unknown = set(step) - STEP_KEYS
        assert not unknown, f"{where}, step {n}: unknown keys {sorted(unknown)}"
        kinds = [k for k in ("send", "tap", "press_stale", "press_remembered") if k in step]
        if not kinds:
            assert "remember" in step, f"{where}, step {n}: say what the user does (one of {STEP_KINDS})"
            assert isinstance(step["remember"], dict), f"{where}, step {n}: remember: {{name: button label}}"
        assert len(kinds) <= 1, f"{where}, step {n}: one action per step, not {kinds}"
        if "remember" in step and kinds:
            assert kinds == ["tap"], f"{where}, step {n}: `remember: name` goes with a `tap`"
        unknown = set(step.get("expect") or {}) - EXPECT_KEYS
        assert not unknown, f"{where}, step {n}: unknown expectations {sorted(unknown)}"
        if raw.get("terminal"):
            assert kinds in (["send"], ["tap"]) and "remember" not in step, (
                f"{where}, step {n}: a terminal scenario only sends and taps (the terminal has no old screens)"
            )


def load(directory: Path = SCENARIOS) -> list[Scenario]:
    scenarios: list[Scenario] = []
    for path in sorted(directory.glob("*.yaml")):
        raw_list = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        assert isinstance(raw_list, list), f"{path.name}: a list of scenarios"
        names: set[str] = set()
        for raw in raw_list:
            where = f"{path.name}: {raw.get('name', '?')}"
            _check_shape(where, raw)
            assert raw["name"] not in names, f"{where}: two scenarios of one file have this name"
            names.add(raw["name"])
            user = raw.get("user") or 100_000 + zlib.crc32(f"{path.stem}/{raw['name']}".encode()) % 900_000
            scenarios.append(
                Scenario(
                    file=path.stem,
                    name=str(raw["name"]),
                    lang=str(raw.get("lang", "en")),
                    user=int(user),
                    terminal=bool(raw.get("terminal", False)),
                    steps=list(raw["steps"]),
                )
            )
    return scenarios


# --- what a step got back, in either channel ---------------------------------------------------
@dataclass
class Message:
    how: str  # "send", "edit", "document"
    text: str
    buttons: list[list[str]] = field(default_factory=list)
    document: str | None = None

    @property
    def labels(self) -> list[str]:
        return [label for row in self.buttons for label in row]


@dataclass
class Answer:
    messages: list[Message] = field(default_factory=list)
    toast: str | None = None
    pressed: bool = False

    @property
    def text(self) -> str:
        return "\n".join(m.text for m in self.messages)

    @property
    def labels(self) -> list[str]:
        return [label for m in self.messages for label in m.labels]


def describe_step(step: dict[str, Any], user: int, default_user: int) -> str:
    who = "user" if user == default_user else f"user {user}"
    if "send" in step:
        return f"{who} sends: {step['send']}"
    if "tap" in step:
        return f"{who} taps [{step['tap']}]"
    if "press_stale" in step:
        return f"{who} presses [{step['press_stale']}] on an earlier screen"
    if "press_remembered" in step:
        return f"{who} presses the noted button '{step['press_remembered']}' again"
    return f"(notes buttons {step['remember']})"


def show_answer(answer: Answer) -> list[str]:
    lines: list[str] = []
    if answer.toast:
        lines.append(f"    bot (notice on the button): {answer.toast}")
    elif answer.pressed:
        lines.append("    bot (notice on the button): -")
    for m in answer.messages:
        label = {"send": "bot", "edit": "bot (edits)", "document": "bot (file)"}[m.how]
        if m.document:
            lines.append(f"    {label}: 📎 {m.document}")
        for n, line in enumerate(m.text.splitlines() or [""]):
            lines.append(f"    {label + ':' if n == 0 else ' ' * (len(label) + 1)} {line}")
        for row in m.buttons:
            lines.append("        " + "  ".join(f"[{b}]" for b in row))
    if not answer.messages:
        lines.append("    bot: (no message)")
    return lines


@dataclass
class Transcript:
    scenario: Scenario
    channel: str
    entries: list[tuple[str, Answer]] = field(default_factory=list)

    def render(self) -> str:
        out = [f"Conversation so far ({self.scenario.id}, {self.channel}):"]
        for n, (said, answer) in enumerate(self.entries, 1):
            out.append(f"  {n}. {said}")
            out.extend(show_answer(answer))
        return "\n".join(out)


def _label_matches(expected: str, shown: str) -> bool:
    return expected == shown or expected == shown.removeprefix("✓ ")


def check(expect: dict[str, Any], answer: Answer) -> list[str]:
    """The expectations this answer does not meet, each described."""
    failed: list[str] = []
    text = answer.text
    for phrase in _as_list(expect.get("says")):
        if phrase not in text:
            failed.append(f"says: {phrase!r} is not in the answer")
    for phrase in _as_list(expect.get("not_says")):
        if phrase in text:
            failed.append(f"not_says: {phrase!r} is in the answer")
    last = answer.messages[-1].text if answer.messages else ""
    for phrase in _as_list(expect.get("last_says")):
        if phrase not in last:
            failed.append(f"last_says: {phrase!r} is not in the last message")
    labels = answer.labels
    for wanted in _as_list(expect.get("buttons")):
        if not any(_label_matches(wanted, shown) for shown in labels):
            failed.append(f"buttons: [{wanted}] is not offered (offered: {labels})")
    for unwanted in _as_list(expect.get("no_buttons")):
        if any(_label_matches(unwanted, shown) for shown in labels):
            failed.append(f"no_buttons: [{unwanted}] is offered")
    if "only_buttons" in expect:
        screens = [m for m in answer.messages if m.buttons]
        shown = screens[-1].labels if screens else []
        wanted_list = _as_list(expect["only_buttons"])
        if len(shown) != len(wanted_list) or not all(map(_label_matches, wanted_list, shown)):
            failed.append(f"only_buttons: the last screen offers {shown}, not {wanted_list}")
    if "toast" in expect and (not answer.toast or str(expect["toast"]) not in answer.toast):
        failed.append(f"toast: {expect['toast']!r} is not the notice ({answer.toast!r})")
    if expect.get("no_toast") and answer.toast:
        failed.append(f"no_toast: the button got the notice {answer.toast!r}")
    if "document" in expect:
        names = [m.document for m in answer.messages if m.document]
        if expect["document"] not in names:
            failed.append(f"document: {expect['document']!r} was not sent (sent: {names})")
    if expect.get("no_reply") and answer.messages:
        failed.append("no_reply: the bot answered")
    if expect.get("no_reply") is False and not answer.messages:
        failed.append("no_reply: false, but the bot sent nothing")
    for error in ERROR_TEXTS:
        if error in text and error not in _as_list(expect.get("says")):
            failed.append(f"(always) the answer reports an error: {error!r}")
    return failed


# --- Telegram ------------------------------------------------------------------------------------
def telegram_answer(calls: list[Call], chat: int) -> Answer:
    answer = Answer()
    for c in calls:
        if c.method == "answerCallbackQuery":
            answer.pressed = True
            answer.toast = c.params.get("text") or answer.toast
        elif c.chat_id == chat and c.result is not None and c.method in ("sendMessage", "editMessageText"):
            labels = [[b["text"] for b in row] for row in c.keyboard]
            answer.messages.append(Message("send" if c.method == "sendMessage" else "edit", c.text, labels))
        elif c.chat_id == chat and c.result is not None and c.method == "sendDocument":
            name = c.params["_files"]["document"][0]
            caption = str(c.params.get("caption", ""))
            answer.messages.append(Message("document", caption, [], str(name)))
    return answer


class TelegramRun:
    def __init__(self, bot: BotHarness, scenario: Scenario) -> None:
        self.bot = bot
        self.scenario = scenario
        self.noted: dict[str, tuple[int, str, int | None]] = {}  # name -> (user, data, message id)

    def screens(self, user: int) -> list[Call]:
        return [c for c in self.bot.request.to_chat(user) if c.keyboard]

    def latest(self, user: int) -> Call:
        screens = self.screens(user)
        assert screens, "no screen with buttons was sent to the user"
        return screens[-1]

    def find(self, screen: Call, label: str) -> str:
        for b in screen.buttons:
            if _label_matches(label, b["text"]):
                return str(b["callback_data"])
        raise AssertionError(f"no button [{label}] among {[b['text'] for b in screen.buttons]}")

    async def step(self, step: dict[str, Any], user: int, lang: str) -> Answer:
        bot = self.bot
        if "remember" in step and "tap" not in step:
            screen = self.latest(user)
            for name, label in step["remember"].items():
                self.noted[str(name)] = (user, self.find(screen, str(label)), screen.message_id)
            return Answer()
        if "send" in step:
            calls = await bot.send(user, str(step["send"]), lang=lang)
        elif "tap" in step:
            screen = self.latest(user)
            data = self.find(screen, str(step["tap"]))
            if "remember" in step:
                self.noted[str(step["remember"])] = (user, data, screen.message_id)
            calls = await bot.press(user, data, lang=lang, message_id=screen.message_id)
        elif "press_stale" in step:
            label = str(step["press_stale"])
            earlier = self.screens(user)[:-1]
            found = [(s, b) for s in reversed(earlier) for b in s.buttons if _label_matches(label, b["text"])]
            assert found, f"no earlier screen has a button [{label}]"
            old, button = found[0]
            calls = await bot.press(user, str(button["callback_data"]), lang=lang, message_id=old.message_id)
        else:
            name = str(step["press_remembered"])
            assert name in self.noted, f"no button was noted as {name!r}"
            owner, data, message_id = self.noted[name]
            calls = await bot.press(owner, data, lang=lang, message_id=message_id)
        return telegram_answer(calls, user)


# --- the terminal chat ---------------------------------------------------------------------------
def terminal_answer(outcome: Outcome, pressed: bool) -> Answer:
    """What the terminal chat printed for one turn (`TerminalChat.show`), as its parts."""
    answer = Answer(toast=outcome.toast, pressed=pressed)
    for reply in outcome.replies:
        labels = [[b.label for b in row] for row in reply.buttons]
        document = reply.document.name if reply.document is not None else None
        answer.messages.append(Message("document" if document else "send", reply.text, labels, document))
    return answer


class RecordingTerminal(TerminalChat):
    """The terminal chat, keeping each outcome it shows."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outcomes: list[Outcome] = []

    def show(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        super().show(outcome)


class TerminalRun:
    def __init__(self, bot: BotHarness, scenario: Scenario) -> None:
        self.bot = bot
        self.chats: dict[int, RecordingTerminal] = {}
        self.scenario = scenario

    def chat(self, user: int, lang: str) -> RecordingTerminal:
        if user not in self.chats:
            self.chats[user] = RecordingTerminal(self.bot.service, user + TERMINAL_OFFSET, lang, io.StringIO())
        chat = self.chats[user]
        chat.language_code = lang
        return chat

    async def step(self, step: dict[str, Any], user: int, lang: str) -> Answer:
        assert "send" in step or "tap" in step, "only `send` and `tap` steps run in the terminal"
        chat = self.chat(user, lang)
        line = str(step.get("send", step.get("tap")))
        if "tap" in step:  # the label, typed: it must be among the choices shown
            labels = [b.label for b in chat.choices]
            assert any(_label_matches(line, label) for label in labels), f"no choice [{line}] among {labels}"
        shown = len(chat.outcomes)
        await chat.turn(chat.event_for(line))
        [outcome] = chat.outcomes[shown:]
        return terminal_answer(outcome, pressed="tap" in step)


# --- the test ------------------------------------------------------------------------------------
ALL = load()
CASES = [pytest.param(s, "telegram", id=f"{s.id} [telegram]") for s in ALL] + [
    pytest.param(s, "terminal", id=f"{s.id} [terminal]") for s in ALL if s.terminal
]


def test_the_scenarios_are_many_and_in_both_languages() -> None:
    languages = [s.lang.split("-")[0] for s in ALL]
    assert len(ALL) >= 70
    assert languages.count("en") >= 25 and languages.count("zh") >= 25


@pytest.mark.parametrize(("scenario", "channel"), CASES)
async def test_scenario(bot: BotHarness, scenario: Scenario, channel: str) -> None:
    run: TelegramRun | TerminalRun = TelegramRun(bot, scenario) if channel == "telegram" else TerminalRun(bot, scenario)
    transcript = Transcript(scenario, channel)
    for n, step in enumerate(scenario.steps, 1):
        user = int(step.get("user", scenario.user))
        lang = str(step.get("lang", scenario.lang))
        said = describe_step(step, user, scenario.user)
        errors_before = bot.errors()
        try:
            answer = await run.step(step, user, lang)
        except AssertionError as exc:
            transcript.entries.append((said, Answer()))
            pytest.fail(f"{transcript.render()}\n\nStep {n} ({said}) could not be taken: {exc}", pytrace=False)
        transcript.entries.append((said, answer))
        failed = check(step.get("expect") or {}, answer)
        if bot.errors() != errors_before:
            failed.append("(always) a handler failed on this step")
        if failed:
            pytest.fail(
                f"{transcript.render()}\n\nStep {n} ({said}) failed:\n  - " + "\n  - ".join(failed),
                pytrace=False,
            )
