"""Can this server back an ICP filing through Alibaba Cloud? (seed: server-eligibility.txt)

One pure function, `assess`, used alike by the chat, the terminal and the command line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from knowledge.domain import (
    FREE_SERVICE_CODES_PER_INSTANCE,
    MAX_SUBSCRIPTION_MONTHS,
    MIN_SUBSCRIPTION_MONTHS,
    Billing,
    Language,
    Location,
    Product,
    Provider,
)
from knowledge.findings import Finding, render

T = TypeVar("T")

DOMAIN_PRODUCTS = {
    Product.OSS: "oss.reason",
    Product.CDN: "cdn.reason",
    Product.WAF: "waf.reason",
    Product.ANTI_DDOS: "antiddos.reason",
}
# The source says "Alibaba Cloud is not required to be the registered access provider" for OSS and
# CDN only; for WAF and Anti-DDoS it says only that the domain must be filed, which is done through
# the access provider of the server that hosts it.
ANY_PROVIDER = (Product.OSS, Product.CDN)
DOMAIN_RULES = ("domain.any_provider", "domain.via_host")  # a product that is not the filing's server


class MissingFact(ValueError):
    """A fact the verdict depends on was not given."""

    def __init__(self, fact: str) -> None:
        super().__init__(fact)
        self.fact = fact


@dataclass(frozen=True)
class ServerFacts:
    location: Location
    provider: Provider | None = None
    product: Product | None = None
    billing: Billing | None = None
    months: int | None = None
    public_bandwidth: bool | None = None

    def __post_init__(self) -> None:
        if self.months is not None and not (1 <= self.months <= MAX_SUBSCRIPTION_MONTHS):
            raise ValueError(f"months must be a whole number from 1 to {MAX_SUBSCRIPTION_MONTHS}")

    @classmethod
    def from_answers(cls, answers: Mapping[str, Any]) -> ServerFacts:
        """The facts from /check's answers, by question name (QUESTION_FACT), typed or as the
        options' strings ("mainland", "6", "yes"); a question not answered is a fact not given."""

        def given(question: str, convert: Callable[[Any], T]) -> T | None:
            value = answers.get(question)
            return None if value is None else convert(value)

        location = given("location", Location)
        if location is None:
            raise MissingFact("location")
        return cls(
            location=location,
            provider=given("provider", Provider),
            product=given("product", Product),
            billing=given("billing", Billing),
            months=given("months", int),
            public_bandwidth=given("bandwidth", _yes),
        )


# /check's question for each fact (the command line names its options after the facts).
QUESTION_FACT = {
    "location": "location",
    "provider": "provider",
    "product": "product",
    "billing": "billing",
    "months": "months",
    "bandwidth": "public_bandwidth",
}


def _yes(value: bool | str) -> bool:
    if isinstance(value, bool):
        return value
    if value not in ("yes", "no"):
        raise ValueError(f"expected yes or no, got {value!r}")
    return value == "yes"


@dataclass(frozen=True)
class Verdict:
    filing_required: bool
    eligible: bool | None  # None: no filing is needed, so the question does not arise
    reasons: list[Finding]
    next_steps: list[Finding]
    free_service_codes: int | None = None
    rules: list[str] = field(default_factory=list)

    @property
    def headline(self) -> str:
        """The text key of the verdict's headline (the result screen, the plan, My filing)."""
        if not self.filing_required:
            return "verdict.not_required"
        if self.eligible:  # the server can; what else could stop the filing is asked next
            return "verdict.eligible"
        if "vendor.other" in self.rules:
            return "verdict.not_eligible_vendor"
        if "domain.any_provider" in self.rules:  # nothing is wrong: the domain needs its number
            return "verdict.domain_product"
        if "domain.via_host" in self.rules:  # the same, through the hosting server's provider
            return "verdict.domain_via_host"
        return "verdict.not_eligible"

    def as_dict(self, lang: Language) -> dict[str, Any]:
        return {
            "filing_required": self.filing_required,
            "eligible": self.eligible,
            "reasons": render(self.reasons, lang),
            "next_steps": render(self.next_steps, lang),
            "free_service_codes": self.free_service_codes,
            "rules": self.rules,
        }


def _verdict(
    filing_required: bool,
    eligible: bool | None,
    reasons: list[Finding],
    next_steps: list[Finding],
    free_codes: int | None = None,
) -> Verdict:
    rules = list(dict.fromkeys(f.key for f in [*reasons, *next_steps]))
    return Verdict(filing_required, eligible, reasons, next_steps, free_codes, rules)


def _require(value: T | None, fact: str) -> T:
    if value is None:
        raise MissingFact(fact)
    return value


def assess(facts: ServerFacts) -> Verdict:
    if facts.location is not Location.MAINLAND:
        return _verdict(False, None, [Finding("loc.outside_mainland")], [Finding("next.no_filing")])

    reasons = [Finding("loc.mainland_needs_filing")]
    if _require(facts.provider, "provider") is Provider.OTHER:
        return _verdict(True, False, [*reasons, Finding("vendor.other")], [Finding("next.file_with_vendor")])

    product = _require(facts.product, "product")
    if product in DOMAIN_PRODUCTS:
        any_provider = product in ANY_PROVIDER
        steps = [Finding("next.get_miit_number" if any_provider else "next.file_via_host")]
        if product is Product.CDN:
            steps.append(Finding("cdn.origin_warning"))
        rule = "domain.any_provider" if any_provider else "domain.via_host"
        return _verdict(True, False, [*reasons, Finding(DOMAIN_PRODUCTS[product]), Finding(rule)], steps)
    if product is Product.SLB:
        return _verdict(
            True, False, [*reasons, Finding("slb.reason"), Finding("product.only_ecs_sas")], [Finding("slb.next")]
        )
    if product in (Product.ACK, Product.ACS):
        return _verdict(
            True,
            False,
            [*reasons, Finding("ack_acs.reason"), Finding("product.only_ecs_sas")],
            [Finding("ack_acs.next")],
        )
    return _assess_server(facts, product, reasons)


def _assess_server(facts: ServerFacts, product: Product, reasons: list[Finding]) -> Verdict:
    """ECS or Simple Application Server: every requirement of the seed's table, each reported."""
    steps: list[Finding] = []
    reasons = [*reasons, Finding("req.region_ok")]
    ok = True
    if _require(facts.billing, "billing") is Billing.PAY_AS_YOU_GO:
        ok = False
        reasons.append(Finding("req.pay_as_you_go"))
        steps.append(Finding("next.buy_subscription"))
    else:
        months = _require(facts.months, "months")
        reasons.append(Finding("req.subscription_ok"))
        if months >= MIN_SUBSCRIPTION_MONTHS:
            reasons.append(Finding("req.months_ok", {"months": months}))
        else:
            ok = False
            reasons.append(Finding("req.months_short", {"months": months}))
            steps.append(Finding("next.renew"))

    if product is Product.ECS:
        # Asked only when it can still change the verdict; judged whenever it is known.
        bandwidth = facts.public_bandwidth
        if bandwidth is None and ok:
            raise MissingFact("public_bandwidth")
        if bandwidth is True:
            reasons.append(Finding("req.bandwidth_ok"))
        elif bandwidth is False:
            ok = False
            reasons.append(Finding("req.bandwidth_missing"))
            steps.append(Finding("next.buy_bandwidth"))
    else:
        reasons.append(Finding("req.sas_instance_ok"))

    if not ok:
        return _verdict(True, False, reasons, steps)
    reasons.append(Finding("codes.ecs_free" if product is Product.ECS else "codes.sas_free"))
    reasons.append(Finding("codes.count_varies"))
    return _verdict(
        True,
        True,
        reasons,
        [Finding("next.ready_to_file"), Finding("next.check_in_console")],
        FREE_SERVICE_CODES_PER_INSTANCE,
    )
