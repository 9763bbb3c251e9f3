"""Can I file, and what will stop me? (seeds: the preparation table of filing-process.txt, and
server-eligibility.txt for the server and its service code)

`plan` turns what is known about the server, the account, the entity, the domain and the
content into blockers (what stops a filing through Alibaba Cloud now, each with its rule and
fix), obligations (before filing, after approval, after launch) and whether the user is ready.
A fact not given stays unknown; `ready` is True only when nothing that could block is unknown.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from typing import Any, Literal

from knowledge.domain import Language, Product
from knowledge.eligibility import DOMAIN_RULES, MissingFact, ServerFacts, Verdict, assess
from knowledge.filing_type import FilingTypeResult
from knowledge.findings import Finding, render
from knowledge.statements import statement
from knowledge.texts import joined, t

Site = Literal["china", "international"]
Entity = Literal["individual", "organization"]
Content = Literal["general", "news", "publishing", "pharmaceuticals", "medical-devices", "finance", "religion"]
ServerAccount = Literal["same", "other-enterprise", "other-personal"]
Origin = Literal["alibaba", "elsewhere"]
When = Literal["before_filing", "after_approval", "after_launch"]
WHENS: tuple[When, ...] = typing.get_args(When)  # in the order they come
CONTENT: tuple[Content, ...] = (
    "general",
    "news",
    "publishing",
    "pharmaceuticals",
    "medical-devices",
    "finance",
    "religion",
)


@dataclass(frozen=True)
class Readiness:
    """What the user said about everything but the server; None: not asked, or skipped."""

    account_site: Site | None = None
    identity_verified: bool | None = None
    entity: Entity | None = None
    account_has_other_entity: bool | None = None
    reads_chinese: bool | None = None
    domain_ready: bool | None = None
    content: Content | None = None
    pre_approval: bool | None = None
    commercial: bool | None = None
    server_account: ServerAccount | None = None
    cdn_origin: Origin | None = None


@dataclass(frozen=True)
class Blocker:
    rule: str
    fix: str  # the statement key of what to do
    params: dict[str, object] = field(default_factory=dict)
    fixes: tuple[Finding, ...] = ()  # what to do, when it is the verdict's own next steps (not `fix`)

    def fix_text(self, lang: Language) -> str:
        if self.fixes:
            return joined(*render(list(self.fixes), lang))
        return statement(self.fix).text(lang)


@dataclass(frozen=True)
class Obligation:
    rule: str
    when: When
    params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    filing_required: bool | None
    eligible: bool | None
    ready: bool | None
    blockers: list[Blocker]
    obligations: list[Obligation]
    unknown: list[str]  # facts not given that could change `ready`
    verdict: Verdict | None
    filing_type: FilingTypeResult | None = None

    @property
    def rules(self) -> list[str]:
        server = self.verdict.rules if self.verdict is not None else []
        return [*server, *(b.rule for b in self.blockers), *(o.rule for o in self.obligations)]

    def as_dict(self, lang: Language) -> dict[str, Any]:
        return {
            "filing_required": self.filing_required,
            "eligible": self.eligible,
            "ready": self.ready,
            "blockers": [
                {
                    "rule": b.rule,
                    "text": statement(b.rule).text(lang, **_named(b.params, lang)),
                    "fix": b.fix_text(lang),
                }
                for b in self.blockers
            ],
            "obligations": [
                {"rule": o.rule, "text": statement(o.rule).text(lang, **_named(o.params, lang)), "when": o.when}
                for o in self.obligations
            ],
            "unknown": self.unknown,
            "filing_type": self.filing_type.as_dict(lang) if self.filing_type is not None else None,
            "rules": self.rules,
        }


def _named(params: dict[str, object], lang: Language) -> dict[str, object]:
    """An entity type or a field, as the user's language names it."""
    return {k: t(lang, f"opt.{'content' if k == 'field' else k}.{v}") for k, v in params.items()}


def plan(server: dict[str, Any], facts: Readiness, filing_type: FilingTypeResult | None = None) -> Plan:
    """`server`: /check's answers by question name (as `ServerFacts.from_answers` takes them)."""
    unknown: list[str] = []
    try:
        verdict: Verdict | None = assess(ServerFacts.from_answers(server))
    except MissingFact as exc:
        verdict = None
        unknown.append(exc.fact)
    if verdict is not None and not verdict.filing_required:
        return Plan(False, verdict.eligible, None, [], [], [], verdict, filing_type)
    through_alibaba = files_through_alibaba(verdict)

    blockers: list[Blocker] = []
    if verdict is not None and _server_blocks(verdict):
        # What to do is what the verdict says for this server (renew, buy bandwidth, give the
        # backend ECS instance's IP for SLB...), not one fix for all.
        blockers.append(Blocker("ready.server", "fix.server", fixes=tuple(verdict.next_steps)))

    def check(value: object, blocked: bool, name: str, blocker: Blocker) -> None:
        if value is None:
            unknown.append(name)
        elif blocked:
            blockers.append(blocker)

    if through_alibaba:
        site = facts.account_site
        check(site, site == "international", "account_site", Blocker("ready.international", "fix.international"))
        check(
            facts.identity_verified,
            facts.identity_verified is False,
            "identity_verified",
            Blocker("ready.identity", "fix.identity"),
        )
        check(
            facts.account_has_other_entity,
            facts.account_has_other_entity is True,
            "account_has_other_entity",
            Blocker("ready.one_entity", "fix.one_entity"),
        )
        check(
            facts.reads_chinese, facts.reads_chinese is False, "reads_chinese", Blocker("ready.chinese", "fix.chinese")
        )
        if owner_matters(verdict):
            owner = facts.server_account
            check(
                owner,
                owner == "other-personal",
                "server_account",
                Blocker("ready.owner_personal", "fix.owner_personal"),
            )
    check(facts.domain_ready, facts.domain_ready is False, "domain_ready", Blocker("ready.domain", "fix.domain"))
    if facts.content is None:
        unknown.append("content")
    elif facts.content != "general":
        check(
            facts.pre_approval,
            facts.pre_approval is False,
            "pre_approval",
            Blocker("ready.pre_approval", "fix.pre_approval", {"field": facts.content}),
        )

    obligations = _obligations(server, facts, through_alibaba)
    if blockers:
        ready: bool | None = False
    elif unknown or verdict is None or not through_alibaba:
        ready = None
    else:
        ready = True
    filing_required = verdict.filing_required if verdict is not None else None
    eligible = verdict.eligible if verdict is not None else None
    return Plan(filing_required, eligible, ready, blockers, obligations, unknown, verdict, filing_type)


def server_verdict(server: dict[str, Any]) -> Verdict | None:
    """/check's verdict on these answers; None while a fact it needs is missing."""
    try:
        return assess(ServerFacts.from_answers(server))
    except MissingFact:
        return None


def files_through_alibaba(verdict: Verdict | None) -> bool:
    """The filing goes through Alibaba Cloud: with this server, or with it once changed; not with
    another vendor's server, nor for a product that only needs the domain's number (then the
    account's questions do not arise). Unknown while the server is not checked."""
    return verdict is None or verdict.eligible is True or _server_blocks(verdict)


def owner_matters(verdict: Verdict | None) -> bool:
    """Whose server it is matters for a server that can back the filing (the service code)."""
    return verdict is None or verdict.eligible is True


def _server_blocks(verdict: Verdict) -> bool:
    """The server cannot back a filing through Alibaba Cloud, and could with a change (not another
    vendor's server, not a product that only needs the domain's number)."""
    rules = verdict.rules
    return verdict.eligible is False and "vendor.other" not in rules and not set(DOMAIN_RULES) & set(rules)


def _obligations(server: dict[str, Any], facts: Readiness, through_alibaba: bool) -> list[Obligation]:
    out: list[Obligation] = []
    if facts.entity is not None:
        out.append(Obligation("oblig.documents", "before_filing", {"entity": facts.entity}))
    out.append(Obligation("oblig.local_rules", "before_filing"))
    if facts.content == "general":  # none of the fields the guide names: its list is of examples
        out.append(Obligation("oblig.pre_approval_other", "before_filing"))
    if through_alibaba and facts.server_account == "other-enterprise":
        out.append(Obligation("oblig.service_code", "before_filing"))
    if str(server.get("product") or "") == Product.CDN.value and facts.cdn_origin == "alibaba":
        out.append(Obligation("oblig.cdn_origin", "before_filing"))
    out += [
        Obligation("oblig.icp_number", "after_approval"),
        Obligation("oblig.app_number", "after_approval"),
        Obligation("oblig.copyright", "after_approval"),
    ]
    if facts.commercial:
        out.append(Obligation("oblig.icp_license", "after_approval"))
    out.append(Obligation("oblig.psb", "after_launch"))
    return out
