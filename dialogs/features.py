"""Every feature, in one ordered place (as python-telegram-bot's examples register their handlers).

The router dispatches each command and each decoded button to the one feature that declared it;
`COMMANDS` is the order of the Telegram command menu, and a test checks it names exactly the
features' commands.
"""

from __future__ import annotations

from dialogs import (
    codes,
    faq_answers,
    forget,
    handoff,
    language,
    menu,
    myfiling,
    plan_document,
    progress,
    questions,
)
from dialogs.commands import COMMANDS
from dialogs.feature import Feature

FEATURES: tuple[Feature, ...] = (
    menu.FEATURE,  # /start, /help, /cancel, /reset, the menu buttons
    questions.FEATURE,  # /check, /filingtype, /steps and their questions
    myfiling.FEATURE,  # /myfiling
    plan_document.FEATURE,  # the plan as a PDF (a button of /ready's plan and of /myfiling)
    codes.FEATURE,  # /codes
    progress.FEATURE,  # /progress and the reminders' buttons
    faq_answers.FEATURE,  # free questions' buttons (the free text itself: the router's hook)
    handoff.FEATURE,  # /human, the rating
    language.FEATURE,  # /language
    forget.FEATURE,  # /forget
)

__all__ = ["COMMANDS", "FEATURES"]
