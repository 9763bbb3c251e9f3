"""How the sender makes a Document's bytes (dialogs/screens.py), by its kind."""

from __future__ import annotations

from collections.abc import Callable

from dialogs import plan_document
from dialogs.screens import Document

RENDERERS: dict[str, Callable[[str], bytes]] = {
    "text": str.encode,
    "plan-pdf": plan_document.render_source,
}


def render(document: Document) -> bytes:
    return RENDERERS[document.kind](document.source)
