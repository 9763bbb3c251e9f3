"""Can I file? The questions of the preparation table, after the server's (/check), and the plan:
what stops the filing now (with its rule and the fix), what comes before filing, after approval
and after launch (knowledge/readiness.py). Every question can be skipped; a skipped fact stays
visible as not checked, and ✅ is shown only when nothing known or unasked could stop the filing.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any, Literal

from pydantic import Field

from dialogs import actions
from dialogs.plan_view import screen_lines
from dialogs.screens import Button, Reply
from dialogs.session import Session
from dialogs.spec import Answers, Conversation, Dialog, Move, Question, option_label, yes_no_label
from knowledge.domain import Language
from knowledge.readiness import CONTENT, Plan, Readiness, files_through_alibaba, owner_matters, plan, server_verdict
from knowledge.texts import t

SKIP = "skip"
YES_NO_SKIP = ("yes", "no", SKIP)
YesNoSkip = Literal["yes", "no", "skip"]


def _with_skip(label: Any) -> Any:
    def labelled(lang: Language, option: str) -> str:
        return t(lang, "opt.skip") if option == SKIP else str(label(lang, option))

    return labelled


class ReadinessAnswers(Answers):
    server: dict[str, Any] = Field(default_factory=dict)  # /check's answers, copied when the questions begin
    account_site: Literal["china", "international", "skip"] | None = None
    identity_verified: YesNoSkip | None = None
    entity: Literal["individual", "organization", "skip"] | None = None
    other_entity: YesNoSkip | None = None
    reads_chinese: YesNoSkip | None = None
    domain_ready: YesNoSkip | None = None
    content: str | None = None
    pre_approval: YesNoSkip | None = None
    commercial: YesNoSkip | None = None
    server_account: Literal["same", "other-enterprise", "other-personal", "skip"] | None = None
    cdn_origin: Literal["alibaba", "elsewhere", "skip"] | None = None


def through_alibaba(a: ReadinessAnswers) -> bool:
    """The account's questions arise only for a filing made through Alibaba Cloud."""
    return files_through_alibaba(server_verdict(a.server))


def elsewhere(a: ReadinessAnswers) -> bool:
    return not through_alibaba(a)


def asks_owner(a: ReadinessAnswers) -> bool:
    return owner_matters(server_verdict(a.server))


def is_cdn(a: ReadinessAnswers) -> bool:
    return a.server.get("product") == "cdn"


def general_content(a: ReadinessAnswers) -> bool:
    return a.content in (None, "general", SKIP)  # no pre-approval to ask about


def _fact(value: str | None) -> str | None:
    return None if value in (None, SKIP) else value


def _yes(value: str | None) -> bool | None:
    return None if value in (None, SKIP) else value == "yes"


def server_from_check(session: Session, dialogs: Mapping[str, Dialog[Any]]) -> dict[str, Any]:
    """The server's facts as the user's /check answers give them (also while /check stands reopened
    at a question: where its answers lead), by question name; empty before any /check."""
    check, record = dialogs.get("check"), session.records.get("check")
    if check is None or record is None:
        return {}
    loaded = check.load(record.state, record.answers, record.history)
    given = check.visited(check.answered(loaded) or loaded)
    return {k: v.value if isinstance(v, Enum) else v for k, v in given.items()}


class ReadinessDialog(Dialog[ReadinessAnswers]):
    # Back from the first question: the server's verdict, the step before this one (the menu if
    # there is none yet).
    back_to = actions.menu("verdict")
    name = "ready"
    answers_type = ReadinessAnswers
    questions = (
        Question(
            "account_site",
            "ready.q.account_site",
            ("china", "international", SKIP),
            _with_skip(option_label("site")),
            1,
        ),
        Question("identity_verified", "ready.q.identity_verified", YES_NO_SKIP, _with_skip(yes_no_label), 3),
        Question("entity", "ready.q.entity", ("individual", "organization", SKIP), _with_skip(option_label("who")), 1),
        Question("other_entity", "ready.q.other_entity", YES_NO_SKIP, _with_skip(yes_no_label), 3),
        Question("reads_chinese", "ready.q.reads_chinese", YES_NO_SKIP, _with_skip(yes_no_label), 3),
        Question("domain_ready", "ready.q.domain_ready", YES_NO_SKIP, _with_skip(yes_no_label), 3),
        Question("content", "ready.q.content", (*CONTENT, SKIP), _with_skip(option_label("field")), 2),
        Question("pre_approval", "ready.q.pre_approval", YES_NO_SKIP, _with_skip(yes_no_label), 3),
        Question("commercial", "ready.q.commercial", YES_NO_SKIP, _with_skip(yes_no_label), 3),
        Question(
            "server_account",
            "ready.q.server_account",
            ("same", "other-enterprise", "other-personal", SKIP),
            _with_skip(option_label("owner")),
            1,
        ),
        Question(
            "cdn_origin", "ready.q.cdn_origin", ("alibaba", "elsewhere", SKIP), _with_skip(option_label("cdnorigin")), 1
        ),
    )
    screens = ("plan",)
    # Only what can still change the plan is asked (knowledge/readiness.py): the account's questions
    # for a filing through Alibaba Cloud, whose server it is for a server that can back the filing,
    # the CDN's origin for CDN; nothing at all when no filing is needed (`begin`).
    moves = (
        Move("account_site", "identity_verified"),
        Move("identity_verified", "entity"),
        Move("entity", "domain_ready", elsewhere),
        Move("entity", "other_entity"),
        Move("other_entity", "reads_chinese"),
        Move("reads_chinese", "domain_ready"),
        Move("domain_ready", "content"),
        Move("content", "commercial", general_content),
        Move("content", "pre_approval"),
        Move("pre_approval", "commercial"),
        Move("commercial", "server_account", asks_owner),
        Move("commercial", "cdn_origin", is_cdn),
        Move("commercial", "plan"),
        Move("server_account", "plan"),
        Move("cdn_origin", "plan"),
    )

    def begin(self, conv: Conversation[ReadinessAnswers], session: Session, dialogs: Mapping[str, Dialog[Any]]) -> None:
        """The server's facts come from /check, as the user last answered it; the first question is
        the first that can arise for that server."""
        conv.answers.server = server_from_check(session, dialogs)
        verdict = server_verdict(conv.answers.server)
        if verdict is not None and not verdict.filing_required:
            conv.state = "plan"  # nothing to ask: the plan says no filing is needed
            return
        if not files_through_alibaba(verdict):
            conv.state = "entity"  # the account's questions do not arise

    def at_plan(self, session: Session, dialogs: Mapping[str, Dialog[Any]]) -> Conversation[ReadinessAnswers] | None:
        """The plan the user's answers lead to (None: not there yet), with the server as /check's
        answers give it now: it was copied when /ready began, and /check may have changed since."""
        record = session.records.get(self.name)
        conv = None if record is None else self.answered(self.load(record.state, record.answers, record.history))
        if conv is not None and session.records.get("check") is not None:
            conv.answers.server = server_from_check(session, dialogs)
        return conv

    def resume(self, conv: Conversation[ReadinessAnswers]) -> None:
        """A user whose answers already lead to a plan sees that plan again (Back and Start again
        are on it), not every question."""
        answered = self.answered(conv)
        if answered is not None:
            conv.state, conv.history = answered.state, answered.history

    def readiness(self, conv: Conversation[ReadinessAnswers]) -> Readiness:
        a = self.visited(conv)  # answers on the path taken; skipped ones are facts not given
        facts: dict[str, Any] = {
            "account_site": _fact(a.get("account_site")),
            "identity_verified": _yes(a.get("identity_verified")),
            "entity": _fact(a.get("entity")),
            "account_has_other_entity": _yes(a.get("other_entity")),
            "reads_chinese": _yes(a.get("reads_chinese")),
            "domain_ready": _yes(a.get("domain_ready")),
            "content": _fact(a.get("content")),
            "pre_approval": _yes(a.get("pre_approval")),
            "commercial": _yes(a.get("commercial")),
            "server_account": _fact(a.get("server_account")),
            "cdn_origin": _fact(a.get("cdn_origin")),
        }
        return Readiness(**facts)

    def result(self, conv: Conversation[ReadinessAnswers]) -> Plan:
        """The plan for the server's answers and the facts given here (as FilingTypeDialog.result)."""
        return plan(conv.answers.server, self.readiness(conv))

    def render_screen(self, conv: Conversation[ReadinessAnswers], lang: Language, edit: bool) -> Reply:
        result = self.result(conv)
        lines = screen_lines(result, lang)
        keyboard: list[tuple[Button, ...]] = []
        if "location" in result.unknown:  # no /check yet: the server's facts are missing
            keyboard.append((Button(t(lang, "btn.check"), actions.menu("check")),))
        if result.filing_required is not False:
            keyboard.append((Button(t(lang, "btn.plan_pdf"), actions.encode(actions.PlanDocument())),))
        keyboard.extend(self.end_rows(conv, lang))
        return Reply("\n".join(lines), tuple(keyboard), edit, "ready.plan")

    def result_log(self, conv: Conversation[ReadinessAnswers]) -> dict[str, Any] | None:
        result = self.result(conv)
        return {"ready": result.ready, "rules": result.rules, "unknown": result.unknown}
