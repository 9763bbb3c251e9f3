"""The dialogs, built once per process (lazily: nothing is built at import time)."""

from __future__ import annotations

from functools import cache
from typing import Any

from dialogs.check import CheckDialog
from dialogs.codes import AddCodeDialog
from dialogs.filingtype import FilingTypeDialog
from dialogs.readiness import ReadinessDialog
from dialogs.spec import Dialog
from dialogs.stage_date import StageDateDialog
from dialogs.steps import StepsDialog


@cache
def dialogs() -> dict[str, Dialog[Any]]:
    every = (CheckDialog(), ReadinessDialog(), FilingTypeDialog(), StepsDialog(), AddCodeDialog(), StageDateDialog())
    return {d.name: d for d in every}


def get(name: str) -> Dialog[Any] | None:
    return dialogs().get(name)
