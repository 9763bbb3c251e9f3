"""A rule's outcome: a statement id plus the values it is phrased with."""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.domain import Language
from knowledge.statements import statement


@dataclass(frozen=True)
class Finding:
    key: str
    params: dict[str, object] = field(default_factory=dict)

    def text(self, lang: Language) -> str:
        return statement(self.key).text(lang, **self.params)


def render(findings: list[Finding], lang: Language) -> list[str]:
    return [f.text(lang) for f in findings]
