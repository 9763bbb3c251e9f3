"""The knowledge base itself: every statement traced to a seed, every text in both languages."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from knowledge.statements import quote_is_in_source, statements
from knowledge.texts import catalog

ROOT = Path(__file__).resolve().parents[1]
SHARED_SEEDS = ROOT.parent / "shared" / "seeds"


@pytest.mark.parametrize("key", sorted(statements()))
def test_statement_quote_is_verbatim_in_its_seed(key: str) -> None:
    s = statements()[key]
    assert quote_is_in_source(s.source), f"{key}: quote not found in {s.source.file}"
    assert s.en.strip() and s.zh.strip()
    # both languages use the same placeholders
    assert set(re.findall(r"{(\w+)}", s.en)) == set(re.findall(r"{(\w+)}", s.zh))
    assert re.search(r"[\u4e00-\u9fff]", s.zh), f"{key}: the Chinese text has no Chinese"


def test_every_statement_the_code_names_exists() -> None:
    from dialogs.steps import CONTENT
    from knowledge.eligibility import DOMAIN_PRODUCTS
    from knowledge.progress import Stage
    from knowledge.service_codes import CodeStatus

    keys = set(statements())
    used: set[str] = set()
    for path in [*ROOT.glob("knowledge/*.py"), *ROOT.glob("dialogs/*.py"), *ROOT.glob("bot/*.py")]:
        used |= set(re.findall(r'(?:statement|Finding)\(\s*"([\w.]+)"', path.read_text()))
    assert len(used) > 20, "the pattern found too few statement uses: fix the test"
    used |= set(DOMAIN_PRODUCTS.values()) | {key for keys_ in CONTENT.values() for key in keys_}
    used |= {f"codestatus.{s.value}" for s in CodeStatus} | {f"stage.{s.value}" for s in Stage}
    assert used <= keys, used - keys


def test_bundled_sources_match_the_shared_seeds() -> None:
    if not SHARED_SEEDS.exists():
        pytest.skip("../shared/seeds is not beside this checkout")
    for seed in SHARED_SEEDS.glob("*.txt"):
        assert (ROOT / "knowledge" / "sources" / seed.name).read_text() == seed.read_text()


def test_interface_texts_have_the_same_keys_and_placeholders_in_both_languages() -> None:
    en, zh = catalog("en"), catalog("zh")
    assert set(en) == set(zh)
    for key in en:
        assert set(re.findall(r"{(\w+)}", en[key])) == set(re.findall(r"{(\w+)}", zh[key])), key


def test_every_interface_key_used_in_code_exists() -> None:
    en = catalog("en")
    used: set[str] = set()
    for path in [*ROOT.glob("bot/*.py"), *ROOT.glob("dialogs/*.py")]:
        used |= set(re.findall(r'\bt\(\s*(?:lang|session\.language|self\.\w+), "([\w.-]+)"', path.read_text()))
    assert used, "the pattern found no use of t(): fix the test"
    assert used <= set(en), used - set(en)


def test_knowledge_files_read_the_same_with_libyaml_as_with_pure_python() -> None:
    """knowledge/data.py reads with libyaml for start-up time; it must not read anything differently."""
    import yaml

    from knowledge.data import load_yaml

    for parts in (
        ("faq.yaml",),
        ("faq_terms.yaml",),
        ("glossary.yaml",),
        ("statements.yaml",),
        ("texts", "en.yaml"),
        ("texts", "zh.yaml"),
    ):
        text = resources.files("knowledge").joinpath(*parts).read_text("utf-8")
        assert load_yaml(*parts) == yaml.safe_load(text), parts
