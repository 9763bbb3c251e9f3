"""/check: can this server back an ICP filing through Alibaba Cloud?"""

from __future__ import annotations

from typing import Any

from dialogs import actions
from dialogs.screens import Button, Reply
from dialogs.spec import (
    YES_NO,
    Answers,
    Conversation,
    Dialog,
    InvalidTypedAnswer,
    Move,
    Question,
    option_label,
    parse_months,
    yes_no_label,
)
from knowledge.domain import (
    MAX_SUBSCRIPTION_MONTHS,
    SERVER_PRODUCTS,
    Billing,
    Language,
    Location,
    Product,
    Provider,
)
from knowledge.eligibility import QUESTION_FACT, ServerFacts, Verdict, assess
from knowledge.texts import joined, t

MONTH_CHOICES = ("1", "2", "3", "6", "12", "24", "36")


class CheckAnswers(Answers):
    location: Location | None = None
    provider: Provider | None = None
    product: Product | None = None
    billing: Billing | None = None
    months: int | None = None
    bandwidth: bool | None = None


def outside_mainland(a: CheckAnswers) -> bool:
    return a.location is not Location.MAINLAND


def other_vendor(a: CheckAnswers) -> bool:
    return a.provider is Provider.OTHER


def no_service_code_product(a: CheckAnswers) -> bool:
    return a.product not in SERVER_PRODUCTS


def pay_as_you_go(a: CheckAnswers) -> bool:
    return a.billing is Billing.PAY_AS_YOU_GO


def simple_application_server(a: CheckAnswers) -> bool:
    return a.product is Product.SAS


def _months_label(lang: Language, option: str) -> str:
    return t(lang, "opt.months.one") if option == "1" else t(lang, "opt.months", n=option)


def _typed_months(text: str) -> int | None:
    return parse_months(text, MAX_SUBSCRIPTION_MONTHS)


def verdict_title(verdict: Verdict, lang: Language) -> str:
    """The verdict's headline, as the result screen and the plan document show it."""
    key = verdict.headline
    return ("❌ " if key == "verdict.not_eligible" else "ℹ️ ") + t(lang, key)


class CheckDialog(Dialog[CheckAnswers]):
    name = "check"
    answers_type = CheckAnswers
    questions = (
        Question(
            "location",
            "check.q.location",
            tuple(x.value for x in Location),
            option_label("location"),
            1,
            named_in_text=True,
        ),
        Question("provider", "check.q.provider", tuple(x.value for x in Provider), option_label("provider"), 1),
        Question("product", "check.q.product", tuple(x.value for x in Product), option_label("product"), 3),
        Question("billing", "check.q.billing", tuple(x.value for x in Billing), option_label("billing"), 2),
        Question("months", "check.q.months", MONTH_CHOICES, _months_label, 4, _typed_months),
        Question("bandwidth", "check.q.bandwidth", YES_NO, yes_no_label, 2),
    )
    screens = ("verdict",)
    # Order matters: for one source the first move whose condition holds is taken.
    moves = (
        Move("location", "verdict", outside_mainland),
        Move("location", "provider"),
        Move("provider", "verdict", other_vendor),
        Move("provider", "product"),
        Move("product", "verdict", no_service_code_product),
        Move("product", "billing"),
        Move("billing", "verdict", pay_as_you_go),
        Move("billing", "months"),
        Move("months", "verdict", simple_application_server),
        Move("months", "bandwidth"),
        Move("bandwidth", "verdict"),
    )

    def verdict(self, conv: Conversation[CheckAnswers]) -> Verdict:
        return assess(ServerFacts.from_answers(self.visited(conv)))

    def summary(self, conv: Conversation[CheckAnswers], lang: Language) -> str:
        labels = []
        for name, value in self.visited(conv).items():
            question = self.by_name[name]
            if isinstance(value, bool):  # a bare "No" would not say what it answers
                fact = t(lang, f"fact.{QUESTION_FACT[name]}")
                labels.append(t(lang, "verdict.answer_of", fact=fact, value=t(lang, f"opt.{'yes' if value else 'no'}")))
                continue
            labels.append(question.option_label(lang, str(getattr(value, "value", value))))
        return " · ".join(labels)

    def render_screen(self, conv: Conversation[CheckAnswers], lang: Language, edit: bool) -> Reply:
        verdict = self.verdict(conv)
        title = verdict_title(verdict, lang)
        lines = [title, "", joined(t(lang, "verdict.answers"), self.summary(conv, lang)), "", t(lang, "verdict.why")]
        lines += [f"• {f.text(lang)}" for f in verdict.reasons]
        lines += ["", t(lang, "verdict.next")] + [f"• {f.text(lang)}" for f in verdict.next_steps]
        keyboard: list[tuple[Button, ...]] = []
        if verdict.filing_required:
            keyboard.append((Button(t(lang, "btn.ready"), actions.menu("ready")),))
        if verdict.eligible:
            keyboard.append((Button(t(lang, "btn.filingtype"), actions.menu("filingtype")),))
        keyboard.extend(self.end_rows(conv, lang))
        return Reply("\n".join(lines), tuple(keyboard), edit, "check.verdict")

    def result_log(self, conv: Conversation[CheckAnswers]) -> dict[str, Any] | None:
        verdict = self.verdict(conv)
        return {
            "filing_required": verdict.filing_required,
            "eligible": verdict.eligible,
            "free_service_codes": verdict.free_service_codes,
            "rules": verdict.rules,
        }


__all__ = ["CheckAnswers", "CheckDialog", "InvalidTypedAnswer"]
