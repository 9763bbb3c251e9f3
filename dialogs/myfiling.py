"""/myfiling: one screen with where the user's filing stands (the server's verdict, whether
anything stops the filing, the filing type, their service codes, their progress) and the one
thing to do next."""

from __future__ import annotations

from dialogs import actions
from dialogs.check import CheckDialog
from dialogs.codes import describe
from dialogs.feature import Feature, Flow, at_result, data
from dialogs.filingtype import FilingTypeDialog, owner_in_ready
from dialogs.progress import stage_name, time_notices
from dialogs.readiness import ReadinessDialog
from dialogs.screens import Button, Outcome, Reply
from dialogs.session import Session
from knowledge.domain import Language
from knowledge.progress import CHINA, STAGES, Stage
from knowledge.statements import statement
from knowledge.texts import t


def screen(flow: Flow, session: Session, edit: bool = False) -> Reply:
    lang: Language = session.language
    stored = data(session)
    lines = ["🗂 " + t(lang, "myfiling.title"), ""]
    # (what to do, the button's callback data, its label: None for "Do it now") in the order to do them
    nexts: list[tuple[str, str, str | None]] = []

    check = at_result(flow, session, "check")
    not_needed = False
    if check is None:
        lines.append(t(lang, "myfiling.server.unknown"))
        nexts.append((t(lang, "btn.check"), actions.menu("check"), None))
    else:
        checker = flow.dialogs["check"]
        assert isinstance(checker, CheckDialog)
        verdict = checker.verdict(check)
        key = verdict.headline
        lines.append(t(lang, "myfiling.server", verdict=t(lang, key)))
        not_needed = not verdict.filing_required
        if key == "verdict.not_eligible" and verdict.next_steps:
            # done outside the bot (renew, buy bandwidth): the button can only check again afterwards
            nexts.append((verdict.next_steps[0].text(lang), actions.menu("check"), t(lang, "myfiling.check_again")))
        elif verdict.filing_required and not verdict.eligible and verdict.next_steps:
            # made elsewhere (another vendor, the host of the domain's server): the step, and the plan
            nexts.append((verdict.next_steps[0].text(lang), actions.menu("ready"), t(lang, "myfiling.see_plan")))

    dialog = flow.dialogs["ready"]
    assert isinstance(dialog, ReadinessDialog)
    ready = dialog.at_plan(session, flow.dialogs)
    if ready is None:
        record = session.records.get("ready")
        started = record is not None and bool(dialog.visited(dialog.load(record.state, record.answers, record.history)))
        lines.append(t(lang, "myfiling.ready.unfinished" if started else "myfiling.ready.unknown"))
        nexts.append((t(lang, "btn.ready"), actions.menu("ready"), None))
    else:
        result = dialog.result(ready)
        if result.filing_required is False:
            state = "not_needed"
        else:
            state = "yes" if result.ready else ("blocked" if result.blockers else "open")
            if state == "open" and result.eligible is False:  # made elsewhere or by any provider: the plan says
                state = "elsewhere"
        one = state == "blocked" and len(result.blockers) == 1
        lines.append(t(lang, f"myfiling.ready.{state}{'_one' if one else ''}", n=len(result.blockers)))
        if result.blockers:
            nexts.append((result.blockers[0].fix_text(lang), actions.menu("ready"), t(lang, "myfiling.ready_again")))

    filingtype = at_result(flow, session, "filingtype")
    if filingtype is None:
        lines.append(t(lang, "myfiling.type.unknown"))
        nexts.append((t(lang, "btn.filingtype"), actions.menu("filingtype"), None))
    else:
        typer = flow.dialogs["filingtype"]
        assert isinstance(typer, FilingTypeDialog)
        if filingtype.answers.vendor_server:
            lines.append(t(lang, "myfiling.type.vendor"))
        elif filingtype.answers.no_filing:
            lines.append(t(lang, "myfiling.type.not_required"))
        else:
            kind = typer.result(filingtype).filing_type.value
            lines.append(t(lang, "myfiling.type", name=t(lang, f"filingtype.name.{kind}")))
        if typer.owner_differs(filingtype, owner_in_ready(session, flow.dialogs)):
            lines.append(t(lang, "myfiling.owner_differs"))

    codes = stored.list_codes()
    lines += ["", t(lang, "myfiling.codes", n=len(codes))]
    lines += [f"• {describe(c, lang, c.code)}" for c in codes[:10]]  # in the user's own chat: in full

    progress = stored.progress()
    lines += ["", t(lang, "myfiling.progress", stage=stage_name(lang, progress.stage))]
    dated = [(stage, progress.dates.get(stage)) for stage in STAGES[: STAGES.index(progress.stage) + 1]]
    for stage, at in dated:
        if at is not None:
            day = f"{at.astimezone(CHINA):%Y-%m-%d}"
            lines.append(t(lang, "myfiling.stage", stage=stage_name(lang, stage), date=day))
    if any(at is not None for _, at in dated):  # the zone once, as /progress says it
        lines.append(t(lang, "progress.zone", zone=t(lang, "china_time")))
    lines += time_notices(progress, session)  # a time that has run out or is running, as /progress says it
    if progress.stage is not Stage.PREPARING:
        # The order is submitted: what comes next is what /progress says; the checks before filing
        # stay above as facts, not as a step to go back to.
        nexts = []
    if not nexts and progress.stage is not Stage.PSB_DONE:
        stage_next = statement(f"stage.{progress.stage.value}").text(lang)
        nexts.append((stage_next, actions.encode(actions.ProgressShow()), t(lang, "remind.open")))

    if not_needed and progress.stage is Stage.PREPARING:  # nothing to file for this server: no step to push
        nexts = []
    if nexts:
        # A button's label read as a sentence: without its arrow (after a space or not: "类型？»").
        lines += ["", t(lang, "myfiling.next", action=nexts[0][0].removesuffix("»").rstrip())]
    keyboard = [(Button(nexts[0][2] or t(lang, "myfiling.go"), nexts[0][1]),)] if nexts else []
    if ready is not None and not not_needed:
        keyboard.append((Button(t(lang, "btn.plan_pdf"), actions.encode(actions.PlanDocument())),))
    keyboard.append((Button(t(lang, "btn.menu"), actions.menu("menu")),))
    return Reply("\n".join(lines), tuple(keyboard), edit, "myfiling")


def _command(flow: Flow, session: Session, out: Outcome) -> None:
    flow.show(session, "myfiling")
    out.replies.append(screen(flow, session))


FEATURE = Feature("myfiling", commands={"myfiling": _command}, screen=screen)
