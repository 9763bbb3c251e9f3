"""A service code's status, as one shared transitions machine (seed: the status table).

Refused, because the source states it, and nothing else:
  Filed is final ("The code cannot be refunded or reused");
  Refunded is final ("This service code has been invalidated and cannot be used");
  only paid codes can become Refunded ("Only paid service codes can have this status").
Every other change is the user's to record. The usual course (Available -> Filing in progress ->
Filed) is what the status descriptions imply; any other change is recorded with a note that is
labelled as advice (or, for a filing withdrawn or rejected, as an assumption), never refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from transitions import Machine, MachineError

from knowledge.findings import Finding
from knowledge.service_codes import CodeStatus

S = CodeStatus
FINAL = (S.FILED, S.REFUNDED)
# Changes with a name of their own (the verbs of their buttons); any other is "to_<status>".
NAMED = {
    (S.AVAILABLE, S.IN_PROGRESS): "start_filing",
    (S.IN_PROGRESS, S.FILED): "complete_filing",
    (S.IN_PROGRESS, S.AVAILABLE): "withdraw_filing",
    (S.AVAILABLE, S.UNBOUND): "unbind",
    (S.UNBOUND, S.AVAILABLE): "bind",
    (S.AVAILABLE, S.REFUNDED): "refund",
}
# (trigger, source, dest): from every status that is not final, to every other one.
TRANSITIONS: tuple[tuple[str, CodeStatus, CodeStatus], ...] = tuple(
    (NAMED.get((a, b), f"to_{b.value}"), a, b) for a in S if a not in FINAL for b in S if b is not a
)
USUAL = frozenset({(S.AVAILABLE, S.IN_PROGRESS), (S.IN_PROGRESS, S.FILED)})  # what the statuses imply
ASSUMED = frozenset({(S.IN_PROGRESS, S.AVAILABLE)})  # a withdrawn or rejected filing frees its code


@dataclass(eq=False)
class CodeModel:
    state: str
    paid: bool

    def is_paid(self) -> bool:
        return self.paid


@cache
def machine() -> Machine:
    m = Machine(
        model=None,
        states=[s.value for s in CodeStatus],
        initial=S.AVAILABLE.value,
        auto_transitions=False,
        name="service_code",
    )
    for trigger, source, dest in TRANSITIONS:
        m.add_transition(trigger, source.value, dest.value, conditions=["is_paid"] if dest is S.REFUNDED else None)
    return m


def trigger_for(current: CodeStatus, target: CodeStatus) -> str | None:
    return next((t for t, s, d in TRANSITIONS if s is current and d is target), None)


def allowed_targets(current: CodeStatus, paid: bool) -> list[CodeStatus]:
    return [d for _, s, d in TRANSITIONS if s is current and (d is not S.REFUNDED or paid)]


def advice(current: CodeStatus, target: CodeStatus) -> Finding | None:
    """A note for a change outside the usual course, labelled as advice or an assumption."""
    if (current, target) in USUAL:
        return None
    return Finding("codeassume.withdraw" if (current, target) in ASSUMED else "codeadvice.unusual")


def change(current: CodeStatus, target: CodeStatus, paid: bool) -> Finding | None:
    """Apply one change on the shared machine. None when allowed; otherwise why it is refused."""
    trigger = trigger_for(current, target)
    if trigger is not None:
        model = CodeModel(current.value, paid)
        try:  # the shared machine fires the event on this code (see dialogs/spec.py, Dialog.fire)
            if machine().events[trigger].trigger(model) and model.state == target.value:
                return None
        except MachineError:
            pass
    return refusal(current, target, paid)


def refusal(current: CodeStatus, target: CodeStatus, paid: bool) -> Finding:
    if current is S.FILED:
        return Finding("codeforbid.filed")
    if current is S.REFUNDED:
        return Finding("codeforbid.refunded")
    return Finding("codeforbid.refund_free")  # the only other refusal
