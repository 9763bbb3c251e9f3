"""Which filing type applies, and whether a service code is needed (seed: filing-process.txt)."""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.domain import FilingType, Language
from knowledge.findings import Finding, render
from knowledge.texts import joined


class ContradictoryAnswers(ValueError):
    """Answers that cannot all be true; `finding` explains why."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.key)
        self.finding = finding


@dataclass(frozen=True)
class FilingTypeResult:
    filing_type: FilingType
    entity_with_alibaba: bool
    findings: list[Finding]

    @property
    def rules(self) -> list[str]:
        return [f.key for f in self.findings]

    def as_dict(self, lang: Language) -> dict[str, object]:
        return {
            "filing_type": self.filing_type.value,
            "entity_with_alibaba": self.entity_with_alibaba,
            "explanation": joined(*render(self.findings, lang)),
            "rules": self.rules,
        }


def determine_filing_type(
    entity_filed_with_alibaba: bool, entity_has_miit_record: bool, website_filed_with_miit: bool
) -> FilingTypeResult:
    if entity_filed_with_alibaba and not entity_has_miit_record:
        raise ContradictoryAnswers(Finding("type.contradiction.alibaba_without_miit"))
    if website_filed_with_miit and not entity_has_miit_record:
        raise ContradictoryAnswers(Finding("type.contradiction.site_without_entity"))

    if not entity_has_miit_record:
        kind, key = FilingType.FIRST_FILING, "type.first_filing"
    elif website_filed_with_miit:
        kind = FilingType.ADD_ACCESS
        key = "type.add_access_existing" if entity_filed_with_alibaba else "type.add_access_new_entity"
    else:
        kind = FilingType.ADD_SERVICE
        key = "type.add_service_existing" if entity_filed_with_alibaba else "type.add_service_new_entity"

    findings = [Finding(key)]
    if kind is FilingType.ADD_ACCESS:
        findings.append(Finding("type.registrar_unaffected"))
    findings.append(Finding("type.automatic"))
    return FilingTypeResult(kind, entity_filed_with_alibaba, findings)


def service_code_situation(same_account: bool, enterprise: bool | None = None) -> Finding:
    """`enterprise`: whether the other account is an enterprise one, when the user said (in /ready):
    a personal account cannot authorize a code, as the plan's blocker says."""
    if same_account:
        return Finding("code.same_account")
    return Finding("ready.owner_personal" if enterprise is False else "code.different_account")
