"""Interface texts by key, in English and Simplified Chinese."""

from __future__ import annotations

from functools import cache

from knowledge.data import load_yaml
from knowledge.domain import Language


@cache
def catalog(lang: Language) -> dict[str, str]:
    texts: dict[str, str] = load_yaml("texts", f"{lang}.yaml")
    return texts


# After these, Chinese runs on without a space (a space after "：" or "。" reads as a gap).
_FULL_WIDTH_END = tuple("。！？：；，、）」』”")


def joined(*parts: str) -> str:
    """Parts of one text, separated by a space, except after full-width punctuation."""
    out = ""
    for part in parts:
        if out and part:
            out += "" if out.endswith(_FULL_WIDTH_END) else " "
        out += part
    return out


def t(lang: Language, key: str, **params: object) -> str:
    template = catalog(lang)[key]
    return template.format(**params) if params else template
