"""A plan (knowledge/readiness.py) as words in one language: the headline and the sections in the
order a user meets them. The /ready screen and the plan document (dialogs/plan_document.py) show
the same sections, so the chat and the document cannot say different things.
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.domain import Language
from knowledge.readiness import WHENS, Plan
from knowledge.texts import joined, t


@dataclass(frozen=True)
class Item:
    text: str
    fix: str | None = None  # what to do, for a blocker


@dataclass(frozen=True)
class Section:
    key: str  # "blockers", "unchecked", or a When
    title: str
    items: tuple[Item, ...]


def headline(result: Plan, lang: Language) -> str | None:
    if result.filing_required is False:
        return "ℹ️ " + t(lang, "plan.not_needed")
    if result.ready:
        return t(lang, "plan.ready")
    if result.blockers:
        return t(lang, "plan.blocked")
    if result.eligible is False and result.verdict is not None:
        # Made elsewhere, or by any access provider: the verdict's own headline and next step say
        # through whom ("not through Alibaba Cloud" would say more than the source for CDN and OSS).
        steps = result.verdict.next_steps
        then = steps[0].text(lang) if steps else ""
        return "ℹ️ " + t(lang, "plan.elsewhere", verdict=t(lang, result.verdict.headline), next=then).strip()
    return None


def sections(result: Plan, lang: Language) -> list[Section]:
    data = result.as_dict(lang)
    out: list[Section] = []
    if result.blockers:
        blockers = tuple(Item(b["text"], b["fix"]) for b in data["blockers"])
        out.append(Section("blockers", t(lang, "plan.blocked"), blockers))
    if result.unknown:
        names = ("、" if lang == "zh" else ", ").join(t(lang, f"fact.{name}") for name in result.unknown)
        key = "plan.unchecked_one" if len(result.unknown) == 1 else "plan.unchecked"
        out.append(Section("unchecked", t(lang, key, facts=names), ()))
    if result.filing_required is not False:
        for when in WHENS:
            items = tuple(Item(o["text"]) for o in data["obligations"] if o["when"] == when)
            if items:
                out.append(Section(when, t(lang, f"plan.when.{when}"), items))
    return out


def screen_lines(result: Plan, lang: Language) -> list[str]:
    """The plan as the chat shows it: the headline (with the blockers under it), then the rest."""
    lines = ["📋 " + t(lang, "plan.title")]
    head = headline(result, lang)
    if head is not None:
        lines += ["", head]
    for section in sections(result, lang):
        if section.key == "blockers":
            for item in section.items:
                lines += [f"• {item.text}", "  " + joined(t(lang, "plan.fix"), item.fix or "")]
            continue
        lines += ["", section.title, *(f"• {item.text}" for item in section.items)]
    return lines
