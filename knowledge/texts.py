"""Interface texts by key, in English and Simplified Chinese."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

from knowledge.domain import Language


@cache
def catalog(lang: Language) -> dict[str, str]:
    path = resources.files("knowledge").joinpath("texts", f"{lang}.yaml")
    return yaml.safe_load(path.read_text("utf-8"))


def t(lang: Language, key: str, **params: object) -> str:
    template = catalog(lang)[key]
    return template.format(**params) if params else template
