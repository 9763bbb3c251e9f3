"""The dialogs on their own: machines, skips, Back, stale and typed input, with no Telegram or SQL."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path
from typing import Any

import pytest

from dialogs import actions
from dialogs.diagram import all_diagrams
from dialogs.registry import dialogs
from dialogs.router import Router
from dialogs.screens import Outcome
from dialogs.session import Command, Press, Session, Text
from knowledge.domain import Location

ROOT = Path(__file__).resolve().parents[1]


def play(dialog_name: str, answers: list[str]):
    d = dialogs()[dialog_name]
    conv = d.new()
    for value in answers:
        assert d.answer(conv, value), f"no move from {conv.state} on {value}"
    return d, conv


@pytest.mark.parametrize(
    ("answers", "path"),
    [
        (["overseas"], ["location"]),
        (["mainland", "other"], ["location", "provider"]),
        (["mainland", "alibaba", "cdn"], ["location", "provider", "product"]),
        (["mainland", "alibaba", "ecs", "pay-as-you-go"], ["location", "provider", "product", "billing"]),
        (["mainland", "alibaba", "sas", "subscription", "6"], ["location", "provider", "product", "billing", "months"]),
        (
            ["mainland", "alibaba", "ecs", "subscription", "6", "yes"],
            ["location", "provider", "product", "billing", "months", "bandwidth"],
        ),
    ],
)
def test_check_asks_only_what_still_matters(answers: list[str], path: list[str]) -> None:
    _, conv = play("check", answers)
    assert conv.state == "verdict" and conv.history == path


def test_back_walks_the_path_in_reverse_and_keeps_answers() -> None:
    d, conv = play("check", ["mainland", "alibaba", "ecs", "subscription", "2", "no"])
    for expected in ["bandwidth", "months", "billing", "product", "provider", "location"]:
        assert d.fire(conv, "back")
        assert conv.state == expected
    assert conv.answers.months == 2 and conv.history == []
    assert not d.fire(conv, "back")  # nothing before the first question


def test_abandoned_branch_answers_do_not_count() -> None:
    d, conv = play("check", ["mainland", "alibaba", "ecs", "subscription", "6", "no"])
    for _ in range(4):
        d.fire(conv, "back")
    assert conv.state == "product"
    d.answer(conv, "sas")
    d.answer(conv, "subscription")
    d.answer(conv, "6")
    assert conv.state == "verdict"
    assert d.verdict(conv).eligible is True  # the old "no bandwidth" answer is off the path


def test_filing_type_skips_implied_questions() -> None:
    _, conv = play("filingtype", ["yes", "yes", "no"])
    assert conv.history == ["entity_alibaba", "site_miit", "same_account"]
    d, conv = play("filingtype", ["no", "no", "yes"])
    assert conv.history == ["entity_alibaba", "entity_miit", "same_account"]
    assert d.result(conv).filing_type.value == "first_filing"


def test_steps_are_linear_with_five_numbered_steps() -> None:
    d = dialogs()["steps"]
    conv = d.new()
    seen = [d.render(conv, "en").text.splitlines()[0]]
    while d.fire(conv, "next"):
        seen.append(d.render(conv, "en").text.splitlines()[0])
    assert [s.split(":")[0].removeprefix("🔹 ") for s in seen[1:]] == [f"Step {k} of 5" for k in range(1, 6)]
    assert "第 5 步（共 5 步）" in d.render(conv, "zh").text


def test_machines_are_shared_and_hold_no_user_after_a_turn() -> None:
    d, _conv = play("check", ["mainland", "alibaba"])
    assert d.machine.models == []
    assert dialogs()["check"] is d  # one dialog (one Machine) per process


def test_conversations_are_not_kept_alive_by_the_machine() -> None:
    _d, conv = play("check", ["mainland"])
    ref = weakref.ref(conv)
    del conv
    gc.collect()
    assert ref() is None


def test_every_answer_button_fits_telegram_limit_and_decodes_to_its_answer() -> None:
    for d in dialogs().values():
        for q in d.questions:
            for option in q.options:
                data = actions.dialog(d.name, q.name, actions.Verb.ANSWER, option)
                assert len(data.encode()) <= 64
                assert actions.decode(data) == actions.InDialog(d.name, q.name, actions.Verb.ANSWER, option)


def test_docs_diagrams_are_generated_from_the_machines() -> None:
    assert (ROOT / "docs" / "dialogs.md").read_text() == all_diagrams() + "\n"


# --- the router, with a session in memory -----------------------------------------------------------
def fresh(lang: str = "en") -> Session:
    return Session(user_id=1, language=lang)  # type: ignore[arg-type]


def test_router_stale_press_keeps_state() -> None:
    router, s = Router(), fresh()
    router.handle(s, Command("check"))
    router.handle(s, Press("d:check:location:a:mainland"))
    out = router.handle(s, Press("d:check:location:a:overseas"))
    assert out.toast and s.records["check"].state == "provider"


def test_router_free_text_hook_is_called_when_text_is_no_answer() -> None:
    seen: list[str] = []

    def hook(session: Session, text: str) -> Outcome:
        seen.append(text)
        return Outcome()

    router, s = Router(free_text_hook=hook), fresh()
    router.handle(s, Command("check"))
    router.handle(s, Text("Hong Kong (China)"))  # an answer: not the hook's
    router.handle(s, Text("how long does review take?"))
    assert seen == ["how long does review take?"]
    assert s.records["check"].state == "verdict"


def test_router_chinese_labels_are_accepted_as_typed_answers() -> None:
    router, s = Router(), fresh("zh")
    router.handle(s, Command("check"))
    router.handle(s, Text("中国内地"))
    router.handle(s, Text("阿里云"))
    assert s.records["check"].state == "product"


@pytest.mark.parametrize("text", ["", " ", "\x00\x01", "🙂" * 1000, "1" * 5000, "/", "六个月"])
def test_router_odd_text_never_raises(text: str) -> None:
    router, s = Router(), fresh()
    router.handle(s, Command("check"))
    for _ in range(4):
        router.handle(s, Text(text))
    assert s.records["check"].state == "location"


def _library_mermaid_edges(machine: Any) -> set[str]:
    """The edges transitions' own Mermaid output draws for the same machine."""
    from transitions.extensions import GraphMachine

    class Model:
        pass

    model = Model()
    GraphMachine(
        model=model,
        states=list(machine.states),
        initial=machine.initial,
        transitions=[
            {"trigger": trigger, "source": source, "dest": tr.dest, "conditions": [c.func for c in tr.conditions]}
            for trigger, event in machine.events.items()
            for source, transitions in event.transitions.items()
            for tr in transitions
        ],
        auto_transitions=False,
        show_conditions=True,
        graph_engine="mermaid",
    )
    drawn = model.get_graph().draw(None)  # type: ignore[attr-defined]
    return {
        line.strip().replace(": ", " : ", 1) for line in drawn.splitlines() if " --> " in line and "[*]" not in line
    }


def test_our_diagrams_draw_the_same_edges_as_the_librarys_mermaid_output() -> None:
    from dialogs.diagram import mermaid

    for dialog in dialogs().values():
        ours = {line.strip() for line in mermaid(dialog.machine).splitlines() if " --> " in line and "[*]" not in line}
        assert ours == _library_mermaid_edges(dialog.machine), dialog.name


def test_events_fire_on_a_conversation_never_added_to_the_machine_and_nothing_is_kept() -> None:
    """Dialog.fire triggers the shared machine's event on a model it never added (add_model would
    bind a method per state to every conversation on every turn). This relies on transitions'
    Event.trigger taking the model as an argument and reading only its `state`; a release that
    changes that fails here."""
    dialog = dialogs()["check"]
    conv = dialog.new()
    assert dialog.answer(conv, Location.OVERSEAS) and conv.state == "verdict"  # a guarded move
    assert dialog.fire(conv, "back") and conv.state == "location"  # a guard reading the history
    conv.answers.location = Location.MAINLAND
    assert dialog.fire(conv, "answer") and conv.state == "provider"
    assert not dialog.fire(conv, "next")  # no such move here: the state stays
    assert conv.state == "provider" and conv.history == ["location"]
    assert dialog.machine.models == []  # nothing attached, nothing leaked


@pytest.mark.parametrize(
    ("question", "typed", "option"),
    [
        ("location", "Hong Kong", "hong-kong"),
        ("location", "香港", "hong-kong"),
        ("location", "HK", "hong-kong"),
        ("location", "大陆", "mainland"),
        ("location", "国内", "mainland"),
        ("location", "🇨🇳 Chinese mainland!", "mainland"),
        ("provider", "aliyun", "alibaba"),
        ("billing", "pay as you go", "pay-as-you-go"),
        ("billing", "按量付费", "pay-as-you-go"),
        ("billing", "PAYG", "pay-as-you-go"),
        ("billing", "包年包月", "subscription"),
        ("months", "两个月", 2),
        ("months", "1 year", 12),
        ("months", "一年", 12),
        ("months", "three", 3),
        ("months", "半年", 6),
        ("bandwidth", "是的", "yes"),
    ],
)
def test_typed_answers_labels_and_synonyms_in_both_languages(question: str, typed: str, option: object) -> None:
    dialog = dialogs()["check"]
    conv = dialog.new()
    conv.state = question
    value = dialog.match_typed(conv, typed)
    assert str(value) == str(option)


@pytest.mark.parametrize("typed", ["2.5", "three and a half", "2,5 months"])
def test_an_attempt_at_a_month_count_that_is_not_whole_gets_a_hint_not_the_faq(typed: str) -> None:
    from dialogs.spec import InvalidTypedAnswer

    dialog = dialogs()["check"]
    conv = dialog.new()
    conv.state = "months"
    with pytest.raises(InvalidTypedAnswer):
        dialog.match_typed(conv, typed)
