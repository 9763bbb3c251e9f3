"""The ticket card staff see: who, what they answered and concluded, codes (masked), progress, last turns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from knowledge.domain import Language
from knowledge.texts import t

SENSITIVE_ANSWERS = {("addcode", "code")}  # masked like service codes elsewhere


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def waiting(since: datetime, now: datetime) -> str:
    minutes = int((now - since).total_seconds() // 60)
    return f"{minutes // 60}h {minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def _turn_line(turn: dict[str, Any]) -> str:
    data, kind = turn["data"], turn["kind"]
    at = turn["at"].astimezone(UTC).strftime("%H:%M")
    if kind == "user":
        what = next((f"{k}: {v}" for k, v in data.items()), "")
        return f"{at} 👤 {what}"[:300]
    if kind == "bot":
        return f"{at} 🤖 {data.get('screen', '')}"
    return f"{at} · {kind}: " + ", ".join(f"{k}={v}" for k, v in data.items())[:300]


def render(card: dict[str, Any], lang: Language) -> str:
    ticket = card["ticket"]
    none = t(lang, "staff.card.none")
    lines = [
        t(lang, "staff.card.title", id=ticket.id, status=ticket.status),
        t(
            lang,
            "staff.card.user",
            name=ticket.user_name,
            user_id=ticket.user_id,
            language=card["language"],
            reason=ticket.reason,
        ),
        t(lang, "staff.card.opened", at=_when(ticket.created_at)),
        "",
        t(lang, "staff.card.answers"),
    ]
    answered = False
    for dialog, state in sorted(card["dialogs"].items()):
        asked = set(state["history"]) | {state["state"]}
        values = []
        for k, v in state["answers"].items():
            if v is None or k not in asked:
                continue
            values.append(f"{k}=****" if (dialog, k) in SENSITIVE_ANSWERS else f"{k}={v}")
        if values:
            answered = True
            lines.append(f"  {dialog}: " + ", ".join(values))
    if not answered:
        lines.append(f"  {none}")
    verdict = card["verdicts"].get("check")
    lines.append(
        t(lang, "staff.card.verdict")
        + " "
        + (
            f"filing_required={verdict['filing_required']}, eligible={verdict['eligible']}, "
            f"free_codes={verdict['free_service_codes']}; rules: {', '.join(verdict['rules'])}"
            if verdict
            else none
        )
    )
    filingtype = card["verdicts"].get("filingtype")
    lines.append(
        t(lang, "staff.card.filingtype")
        + " "
        + (
            f"{filingtype['filing_type']}, entity_with_alibaba={filingtype['entity_with_alibaba']}, "
            f"same_account={filingtype['same_account']}"
            if filingtype
            else none
        )
    )
    lines.append(t(lang, "staff.card.codes") + (" " + none if not card["codes"] else ""))
    for c in card["codes"]:
        source = f"{c['product']} {c['instance'] or ''}".strip()
        lines.append(f"  {c['code']} · {c['status']} · {source} · {'paid' if c['paid'] else 'free'}")
    stage = card["stage"]
    lines.append(
        t(lang, "staff.card.progress") + " " + (f"{stage['stage']} (since {_when(stage['since'])})" if stage else none)
    )
    lines += ["", t(lang, "staff.card.turns", n=len(card["turns"]))]
    lines += ["  " + _turn_line(turn) for turn in card["turns"]] or [f"  {none}"]
    lines += ["", t(lang, "staff.card.help")]
    return "\n".join(lines)
