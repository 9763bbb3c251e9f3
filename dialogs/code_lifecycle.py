"""A service code's status, as one shared transitions machine (seed: the status table).

Allowed, and nothing else:
  Available -> Filing in progress -> Filed
  Available <-> Not bound to instance
  Available -> Refunded (paid codes only)
  Filing in progress -> Available: an assumption (a withdrawn or rejected filing frees the code)
Filed and Refunded are final.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from transitions import Machine, MachineError

from knowledge.findings import Finding
from knowledge.service_codes import CodeStatus

S = CodeStatus
# (trigger, source, dest); the trigger names double as the verbs of the status buttons.
TRANSITIONS: tuple[tuple[str, CodeStatus, CodeStatus], ...] = (
    ("start_filing", S.AVAILABLE, S.IN_PROGRESS),
    ("complete_filing", S.IN_PROGRESS, S.FILED),
    ("withdraw_filing", S.IN_PROGRESS, S.AVAILABLE),
    ("unbind", S.AVAILABLE, S.UNBOUND),
    ("bind", S.UNBOUND, S.AVAILABLE),
    ("refund", S.AVAILABLE, S.REFUNDED),
)
ASSUMED = frozenset({(S.IN_PROGRESS, S.AVAILABLE)})


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
        m.add_transition(trigger, source.value, dest.value, conditions=["is_paid"] if trigger == "refund" else None)
    return m


def trigger_for(current: CodeStatus, target: CodeStatus) -> str | None:
    return next((t for t, s, d in TRANSITIONS if s is current and d is target), None)


def allowed_targets(current: CodeStatus, paid: bool) -> list[CodeStatus]:
    return [d for t, s, d in TRANSITIONS if s is current and (t != "refund" or paid)]


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
    if target is S.REFUNDED and not paid:
        return Finding("codeforbid.refund_free")
    return Finding("codeforbid.order", {"current": current.value, "target": target.value})
