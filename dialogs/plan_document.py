"""The plan as a document to save, print and forward: English and Chinese side by side, so a user
can hand it to whoever fills in the Chinese forms, with the filing steps' names in both languages.

A PDF (fpdf2) with Noto Sans CJK SC embedded (the font comes with the mplfonts package), so it
renders on any viewer, with or without Chinese fonts. `PlanFacts` is what the document is made
from; the chat sends it as a "plan-pdf" Document, rendered when sent (dialogs/documents.py).
"""

from __future__ import annotations

import importlib.util
import json
import re
from dataclasses import asdict, dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from dialogs import actions
from dialogs.check import verdict_title
from dialogs.feature import Feature, Flow, at_result
from dialogs.filingtype import FilingTypeDialog
from dialogs.plan_view import headline, sections
from dialogs.readiness import ReadinessDialog
from dialogs.screens import Button, Document, Outcome, Reply
from dialogs.session import Session
from knowledge.domain import Language
from knowledge.filing_type import FilingTypeResult, determine_filing_type
from knowledge.progress import CHINA
from knowledge.readiness import Readiness, files_through_alibaba, plan
from knowledge.statements import statement
from knowledge.texts import joined, t

FILENAME = "icp-filing-plan.pdf"
FONT = "NotoSansCJKsc-Regular.otf"
LANGS: tuple[Language, Language] = ("en", "zh")
STEPS = (1, 2, 3, 4, 5)
SIZE, PADDING = 9.5, 1.4  # the table's font size (pt) and cell padding (mm)
# Emoji and pictographs: the chat's markers, which the document's font does not have.
_SYMBOLS = re.compile("[\u2100-\u214f\u2190-\u21ff\u2300-\u27bf\u2b00-\u2bff\ufe0f\U0001f000-\U0001faff]+ ?")


@dataclass(frozen=True)
class PlanFacts:
    """Everything the document is made from: /check's answers, the readiness facts, the three
    filing-type answers if known, and the day it was made (China time)."""

    server: dict[str, Any]
    facts: Readiness
    filing: tuple[bool, bool, bool] | None
    made: date

    def to_json(self) -> str:
        return json.dumps(
            {"server": self.server, "facts": asdict(self.facts), "filing": self.filing, "made": self.made.isoformat()}
        )

    @classmethod
    def from_json(cls, text: str) -> PlanFacts:
        raw = json.loads(text)
        filing = tuple(raw["filing"]) if raw["filing"] is not None else None
        return cls(raw["server"], Readiness(**raw["facts"]), filing, date.fromisoformat(raw["made"]))


@cache
def font_path() -> Path:
    """The CJK font, found without importing mplfonts (which would import matplotlib)."""
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the plan document needs the mplfonts package: pip install -e .")
    return Path(next(iter(spec.submodule_search_locations))) / "fonts" / FONT


def _plain(text: str) -> str:
    return _SYMBOLS.sub("", text).strip()


# A Latin word (kept whole), a run of spaces, or any one other character (a Chinese character).
# An opening bracket or quote stays with what follows it.
_TOKENS = re.compile(r"[（《「“‘(]*(?:[A-Za-z0-9][\w.,:;'’()/%+-]*|\s+|.)", re.S)
_NO_LINE_START = set("，。、：；！？）》」”’,.:;!?)")


def _wrap(doc: FPDF, text: str, width: float) -> str:
    """Line breaks for Chinese text, which has no spaces for fpdf2's word wrapping to break at:
    between any two characters, but not inside a Latin word nor before closing punctuation."""
    lines, line = [], ""
    for token in _TOKENS.findall(text):
        fits = doc.get_string_width((line + token).rstrip()) <= width
        if fits or not line.strip() or token.isspace() or token in _NO_LINE_START:
            line += token
        else:
            lines.append(line.rstrip())
            line = token
    lines.append(line.rstrip())
    return "\n".join(lines)


def _column(facts: PlanFacts, lang: Language) -> list[tuple[str, str]]:
    """The document in one language, as (style, text) lines: "h" a heading, "p" a paragraph, "i"
    an item, "d" a detail under an item (its fix, or what a step is). Both languages give the
    same lines in the same order."""
    filing: FilingTypeResult | None = determine_filing_type(*facts.filing) if facts.filing else None
    result = plan(facts.server, facts.facts, filing)
    out = [("h", t(lang, "pdf.server"))]
    if result.verdict is None:
        out.append(("p", t(lang, "myfiling.server.unknown")))
    else:
        verdict = result.verdict.as_dict(lang)
        out.append(("p", verdict_title(result.verdict, lang)))
        out += [("i", line) for line in verdict["reasons"]]
        if verdict["next_steps"]:
            out.append(("p", t(lang, "verdict.next")))
            out += [("i", line) for line in verdict["next_steps"]]
    if filing is not None:
        out.append(("p", t(lang, "filingtype.result", name=t(lang, f"filingtype.name.{filing.filing_type.value}"))))
    out.append(("h", t(lang, "plan.title")))
    head = headline(result, lang)
    if head is not None:
        out.append(("p", head))
    for section in sections(result, lang):
        if section.key != "blockers":
            out.append(("h" if section.items else "p", section.title))
        for item in section.items:
            out.append(("i", item.text))
            if item.fix is not None:
                out.append(("d", joined(t(lang, "plan.fix"), item.fix)))
    if result.filing_required is False or not files_through_alibaba(result.verdict):
        return out  # no filing, or one made through another provider: Alibaba Cloud's steps do not apply
    out.append(("h", t(lang, "pdf.steps")))
    for k in STEPS:
        out.append(("i", f"{k}. {t(lang, f'steps.name.{k}')}"))
        out.append(("d", statement(f"steps.{k}" if k < 5 else "steps.5.launch").text(lang)))
    return out


class _Document(FPDF):
    def footer(self) -> None:
        """The page's number and the page count, so a printed plan can be put back in order."""
        self.set_y(-11)
        self.set_font("cjk", size=8)
        self.cell(0, 5, f"{self.page_no()} / {{nb}}", align="C")


def _paragraph(doc: FPDF, lang: Language, text: str) -> None:
    if lang == "zh":
        text = _wrap(doc, text, doc.epw - 3)
    doc.multi_cell(0, 4.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def pdf(facts: PlanFacts) -> bytes:
    doc = _Document(format="A4")
    doc.set_title(f"{t('en', 'plan.title')} / {t('zh', 'plan.title')}")
    doc.add_font("cjk", fname=str(font_path()))
    doc.set_auto_page_break(True, margin=15)
    doc.add_page()
    doc.set_font("cjk", size=15)
    doc.cell(0, 9, f"{t('en', 'pdf.title')} · {t('zh', 'pdf.title')}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.set_font("cjk", size=8.5)
    made = facts.made.isoformat()
    for lang in LANGS:
        _paragraph(doc, lang, t(lang, "pdf.note", made=made))
    doc.ln(2)
    columns = [_column(facts, lang) for lang in LANGS]
    if [style for style, _ in columns[0]] != [style for style, _ in columns[1]]:
        raise AssertionError("the two languages of the plan document differ in structure")
    doc.set_font("cjk", size=SIZE)
    width = doc.epw / 2 - 2 * (PADDING + doc.c_margin) - 3  # a column's text, with room for fpdf2's rounding
    heading = FontFace(emphasis="", fill_color=(230, 236, 245))  # the font has no bold face
    detail = FontFace(emphasis="", color=(70, 70, 70))
    with doc.table(
        col_widths=(1, 1),
        v_align="TOP",
        text_align="LEFT",
        headings_style=heading,
        line_height=4.6,
        padding=PADDING,
        borders_layout="HORIZONTAL_LINES",
    ) as table:
        table.row(["English", "中文"])
        for (style, en), (_, zh) in zip(*columns, strict=True):
            face = heading if style == "h" else (detail if style == "d" else None)
            bullet = "• " if style == "i" else ("    " if style == "d" else "")
            row = table.row(style=face)
            row.cell(bullet + _plain(en))
            row.cell(_wrap(doc, bullet + _plain(zh), width))
    doc.ln(3)
    doc.set_font("cjk", size=8.5)
    for lang in LANGS:
        _paragraph(doc, lang, t(lang, "pdf.sources"))
    return bytes(doc.output())


def render_source(source: str) -> bytes:
    return pdf(PlanFacts.from_json(source))


def facts_of(flow: Flow, session: Session) -> PlanFacts | None:
    """The user's plan facts, once they have reached the plan of /ready."""
    dialog = flow.dialogs["ready"]
    assert isinstance(dialog, ReadinessDialog)
    ready = dialog.at_plan(session, flow.dialogs)
    if ready is None:
        return None
    typed = at_result(flow, session, "filingtype")
    typer = flow.dialogs.get("filingtype")
    filing = None
    if typed is not None and isinstance(typer, FilingTypeDialog) and not typed.answers.vendor_server:
        filing = typer.facts(typed)
    return PlanFacts(dict(ready.answers.server), dialog.readiness(ready), filing, session.now.astimezone(CHINA).date())


def _send(flow: Flow, session: Session, action: actions.PlanDocument, out: Outcome) -> None:
    lang = session.language
    facts = facts_of(flow, session)
    if facts is None:
        button = Button(t(lang, "btn.ready"), actions.menu("ready"))
        out.replies.append(Reply(t(lang, "plan.pdf.first"), ((button,),), False, "plan.pdf.first"))
        return
    document = Document(FILENAME, "plan-pdf", facts.to_json())
    # A way on from the file: back to the plan in the chat, or the menu.
    keyboard = (
        (Button(t(lang, "btn.ready"), actions.menu("ready")),),
        (Button(t(lang, "btn.menu"), actions.menu("menu")),),
    )
    out.replies.append(Reply(t(lang, "plan.pdf.caption"), keyboard, document=document, screen="plan.pdf"))


FEATURE = Feature(
    "plan_document", buttons={actions.PlanDocument: _send}, typed={"btn.plan_pdf": actions.PlanDocument()}
)
