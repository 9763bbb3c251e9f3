"""The knowledge base's YAML files, read with libyaml where PyYAML has it (the pure-Python parser
takes a tenth of a second on the text catalogues, which the bot reads at start-up)."""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(*parts: str) -> Any:
    """A file under knowledge/, e.g. load_yaml("texts", "en.yaml")."""
    return yaml.load(resources.files("knowledge").joinpath(*parts).read_text("utf-8"), Loader=_Loader)
