"""/steps: the preparation checklist, then the five steps, one screen at a time."""

from __future__ import annotations

import itertools

from dialogs import actions
from dialogs.screens import Button, Reply
from dialogs.spec import Answers, Conversation, Dialog, Move
from knowledge.domain import Language
from knowledge.statements import statement
from knowledge.texts import t

# Which statements each screen shows (all traced to filing-process.txt).
CONTENT: dict[str, tuple[str, ...]] = {
    "prep": (
        "steps.prep.account",
        "steps.prep.chinese",
        "steps.prep.domain",
        "steps.prep.server",
        "steps.prep.documents",
        "steps.prep.preapproval",
        "steps.prep.local_rules",
    ),
    "step1": ("steps.1",),
    "step2": ("steps.2",),
    "step3": ("steps.3",),
    "step4": ("steps.4",),
    "step5": ("steps.5.launch", "steps.5.number", "steps.5.psb", "steps.5.license"),
}
SCREENS = tuple(CONTENT)


class StepsAnswers(Answers):
    pass


class StepsDialog(Dialog[StepsAnswers]):
    name = "steps"
    answers_type = StepsAnswers
    screens = SCREENS
    moves = tuple(Move(a, b, trigger="next") for a, b in itertools.pairwise(SCREENS))
    way_back_to_screen = ("faq.back_to_page", "btn.show_page")  # a page to read, not a result

    def render_screen(self, conv: Conversation[StepsAnswers], lang: Language, edit: bool) -> Reply:
        state = conv.state
        if state == "prep":
            title = "🧰 " + t(lang, "steps.prep.title")
        else:
            k = int(state.removeprefix("step"))
            title = "🔹 " + t(lang, "steps.step.title", k=k, name=t(lang, f"steps.name.{k}"))
        lines = [title, "", *[f"• {statement(key).text(lang)}" for key in CONTENT[state]]]
        nav: list[Button] = [self.back_button(conv.state, len(conv.history), lang)]
        if state != SCREENS[-1]:
            nav.append(Button(t(lang, "btn.next"), actions.dialog(self.name, state, actions.Verb.NEXT)))
        else:
            lines += ["", t(lang, "steps.done")]
            nav.append(Button(t(lang, "btn.menu"), actions.menu("menu")))
        return Reply("\n".join(lines), (tuple(nav),), edit, f"steps.{state}")
