"""/filingtype: which of the seed's filing types applies, and whether a service code is needed."""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any

from dialogs import actions
from dialogs.readiness import server_from_check
from dialogs.screens import Button, Reply
from dialogs.session import Session
from dialogs.spec import YES_NO, Answers, Conversation, Dialog, Move, Question, yes_no_label
from knowledge.domain import Language
from knowledge.filing_type import FilingTypeResult, determine_filing_type, service_code_situation
from knowledge.findings import Finding
from knowledge.readiness import ServerAccount, server_verdict
from knowledge.texts import t

OWNERS: tuple[ServerAccount, ...] = typing.get_args(ServerAccount)


class FilingTypeAnswers(Answers):
    entity_alibaba: bool | None = None
    entity_miit: bool | None = None
    site_miit: bool | None = None
    same_account: bool | None = None
    server_account: ServerAccount | None = None  # /ready's answer, copied when the questions begin
    # /check says the server is another vendor's (copied when the questions begin): the filing is
    # made through that vendor, and whose Alibaba Cloud account the server is in does not arise.
    vendor_server: bool = False
    # /check says the server is outside the Chinese mainland (copied the same way): no filing is
    # needed, so there is no type to work out.
    no_filing: bool = False


def owner_in_ready(session: Session, dialogs: Mapping[str, Dialog[Any]]) -> ServerAccount | None:
    """Whose account the server is in, as the user last answered it in /ready ("Whose account does
    the server belong to?"); None when not asked there, or skipped."""
    ready, record = dialogs.get("ready"), session.records.get("ready")
    if ready is None or record is None:
        return None
    owner = ready.visited(ready.load(record.state, record.answers, record.history)).get("server_account")
    return next((o for o in OWNERS if o == owner), None)


def entity_with_alibaba(a: FilingTypeAnswers) -> bool:
    # Filed with Alibaba Cloud implies an MIIT record: that question is skipped.
    return bool(a.entity_alibaba)


def entity_without_miit_record(a: FilingTypeAnswers) -> bool:
    # No MIIT record for the entity means none for its sites either: skip that question.
    return a.entity_miit is False


class FilingTypeDialog(Dialog[FilingTypeAnswers]):
    name = "filingtype"
    answers_type = FilingTypeAnswers
    questions = (
        Question("entity_alibaba", "filingtype.q.entity_alibaba", YES_NO, yes_no_label),
        Question("entity_miit", "filingtype.q.entity_miit", YES_NO, yes_no_label),
        Question("site_miit", "filingtype.q.site_miit", YES_NO, yes_no_label),
        Question("same_account", "filingtype.q.same_account", YES_NO, yes_no_label),
    )
    screens = ("result",)
    moves = (
        Move("entity_alibaba", "site_miit", entity_with_alibaba),
        Move("entity_alibaba", "entity_miit"),
        Move("entity_miit", "same_account", entity_without_miit_record),
        Move("entity_miit", "site_miit"),
        Move("site_miit", "same_account"),
        Move("same_account", "result"),
    )

    def begin(
        self, conv: Conversation[FilingTypeAnswers], session: Session, dialogs: Mapping[str, Dialog[Any]]
    ) -> None:
        """/ready asks whose account the server is in too: its answer is the one marked here, so the
        two dialogs start from the same fact (a different answer here is then said on the result)."""
        owner = conv.answers.server_account = owner_in_ready(session, dialogs)
        if owner is not None:
            conv.answers.same_account = owner == "same"
        verdict = server_verdict(server_from_check(session, dialogs))
        conv.answers.vendor_server = verdict is not None and "vendor.other" in verdict.rules
        conv.answers.no_filing = verdict is not None and not verdict.filing_required
        if conv.answers.vendor_server or conv.answers.no_filing:  # nothing to ask: the result says why
            conv.state = "result"

    def owner_differs(self, conv: Conversation[FilingTypeAnswers], owner: ServerAccount | None) -> bool:
        """The answer here contradicts `owner`, /ready's answer (None: none given there)."""
        same = self.visited(conv).get("same_account")
        return owner is not None and same is not None and same != (owner == "same")

    def service_code(self, conv: Conversation[FilingTypeAnswers]) -> Finding:
        owner = conv.answers.server_account
        enterprise = {"other-enterprise": True, "other-personal": False}.get(owner or "")
        return service_code_situation(bool(self.visited(conv)["same_account"]), enterprise)

    def facts(self, conv: Conversation[FilingTypeAnswers]) -> tuple[bool, bool, bool]:
        """(entity filed with Alibaba Cloud, entity has an MIIT record, site filed with the MIIT)"""
        given = self.visited(conv)
        with_alibaba = bool(given["entity_alibaba"])
        has_miit = True if with_alibaba else bool(given["entity_miit"])
        site_filed = bool(given.get("site_miit", False)) if has_miit else False
        return with_alibaba, has_miit, site_filed

    def result(self, conv: Conversation[FilingTypeAnswers]) -> FilingTypeResult:
        return determine_filing_type(*self.facts(conv))

    def render_screen(self, conv: Conversation[FilingTypeAnswers], lang: Language, edit: bool) -> Reply:
        for situation, said in (("vendor_server", "vendor"), ("no_filing", "not_required")):
            if getattr(conv.answers, situation):
                text = "📋 " + t(lang, f"filingtype.{said}")
                return Reply(text, self.end_rows(conv, lang), edit, f"filingtype.{said}")
        result = self.result(conv)
        owner = conv.answers.server_account
        lines = [
            "📋 " + t(lang, "filingtype.result", name=t(lang, f"filingtype.name.{result.filing_type.value}")),
            "",
            *[f"• {f.text(lang)}" for f in result.findings],
            f"• {self.service_code(conv).text(lang)}",
        ]
        if self.owner_differs(conv, owner):
            lines += ["", t(lang, "filingtype.owner_differs", owner=t(lang, f"opt.owner.{owner}"))]
        keyboard = (
            (Button(t(lang, "btn.steps"), actions.menu("steps")),),
            *self.end_rows(conv, lang),
        )
        return Reply("\n".join(lines), keyboard, edit, "filingtype.result")

    def result_log(self, conv: Conversation[FilingTypeAnswers]) -> dict[str, Any] | None:
        if conv.answers.vendor_server:
            return {"filing_type": None, "rules": ["vendor.other"]}
        if conv.answers.no_filing:
            return {"filing_type": None, "rules": ["loc.outside_mainland"]}
        result = self.result(conv)
        same_account = self.visited(conv).get("same_account")
        return {
            "filing_type": result.filing_type.value,
            "entity_with_alibaba": result.entity_with_alibaba,
            "same_account": same_account,
            "owner_differs_from_ready": self.owner_differs(conv, conv.answers.server_account),
            "rules": [*result.rules, self.service_code(conv).key],
        }
