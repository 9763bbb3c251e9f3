"""Interface texts by key, in English and Simplified Chinese."""

from __future__ import annotations

from functools import cache

from knowledge.data import load_yaml
from knowledge.domain import Language


@cache
def catalog(lang: Language) -> dict[str, str]:
    texts: dict[str, str] = load_yaml("texts", f"{lang}.yaml")
    return texts


def t(lang: Language, key: str, **params: object) -> str:
    template = catalog(lang)[key]
    return template.format(**params) if params else template
