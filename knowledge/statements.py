"""Statements: the bot's bilingual sentences, each traced to a passage of a seed document."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from knowledge.data import load_yaml
from knowledge.domain import Language


@dataclass(frozen=True)
class Source:
    file: str
    quote: str


@dataclass(frozen=True)
class Statement:
    id: str
    source: Source
    en: str
    zh: str

    def text(self, lang: Language, **params: object) -> str:
        template = self.zh if lang == "zh" else self.en
        return template.format(**params) if params else template


@cache
def statements() -> dict[str, Statement]:
    raw = load_yaml("statements.yaml")
    return {
        key: Statement(id=key, source=Source(**value["source"]), en=value["en"], zh=value["zh"])
        for key, value in raw.items()
    }


def statement(key: str) -> Statement:
    return statements()[key]


@cache
def seed_text(file: str) -> str:
    """A seed document with its whitespace folded, so quotes can be matched across line breaks."""
    text = resources.files("knowledge").joinpath("sources", file).read_text("utf-8")
    return re.sub(r"\s+", " ", text)


def quote_is_in_source(src: Source) -> bool:
    return re.sub(r"\s+", " ", src.quote.strip()) in seed_text(src.file)
