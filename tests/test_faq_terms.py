"""The FAQ's word lists (knowledge/faq_terms.yaml, knowledge/glossary.yaml) say what they mean.

YAML reads a bare on/off/yes/no as a boolean: a stopword written `on` was True, never the word "on".
"""

from __future__ import annotations

from knowledge.data import load_yaml
from knowledge.faq import faq_index


def _strings(value: object) -> list[object]:
    if isinstance(value, dict):
        return [*value.keys(), *(s for v in value.values() for s in _strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value]


def test_every_word_is_a_string() -> None:
    for name in ("faq_terms.yaml", "glossary.yaml"):
        odd = [s for s in _strings(load_yaml(name)) if not isinstance(s, str)]
        assert odd == [], (name, odd)
    assert "on" in load_yaml("faq_terms.yaml")["stopwords"]["en"]


def test_the_concepts_named_in_the_terms_are_in_the_glossary() -> None:
    glossary, terms = load_yaml("glossary.yaml"), load_yaml("faq_terms.yaml")
    named = {*terms["anchors"], *terms["products"], *terms["anchor_pairs"], *terms["overrides"]}
    named |= {*terms["alone"], *terms["uncovered"]}
    named |= {c for partners in [*terms["anchor_pairs"].values(), *terms["overrides"].values()] for c in partners}
    assert named <= set(glossary), named - set(glossary)
    assert not set(terms["anchors"]) & set(terms["products"])  # a product's name is not a filing matter


def test_a_word_that_rules_another_out() -> None:
    tokens = faq_index().tokenizer.tokens("服务器是朋友账号下的，我用自己账号备案")
    assert "#authorize" in tokens and "#same_account" not in tokens and "自己账号" not in tokens
    assert "#same_account" in faq_index().tokenizer.tokens("我用自己账号备案")


def test_apostrophes_leave_no_stray_letters() -> None:
    tokens = faq_index().tokenizer.tokens("my partner's code isn't bound, what's up")
    assert "partner" in tokens and "s" not in tokens and "t" not in tokens and "#unbound" in tokens


def test_charging_is_the_filing_cost_only_when_the_question_asks_a_price() -> None:
    tokens = faq_index().tokenizer.tokens
    assert "#cost" in tokens("备案收费吗") and "#charging" not in tokens("备案收费吗")
    assert "#charging" in tokens("网站要收费提供服务") and "#cost" not in tokens("网站要收费提供服务")
    assert "#cost" in tokens("is there a charge for the filing") and "#cost" in tokens("filing charges")
    assert "#cost" not in tokens("how many free service codes")  # service codes: not the filing's cost
    assert "#cost" not in tokens("does the ICP licence cost money")  # the licence: not the filing's cost


def test_no_entry_names_a_matter_the_sources_do_not_cover() -> None:
    """`uncovered` lists what the sources do not speak of (a foreigner, a Chinese ID, a site taken offline):
    an entry that named one would never be answered, and would say more than the sources."""
    index = faq_index()
    uncovered = {f"#{c}" for c in load_yaml("faq_terms.yaml")["uncovered"]}
    for entry, vocab, answer in zip(index.entries, index.vocab_by_entry, index.answer_vocab, strict=True):
        assert not uncovered & (vocab | answer), (entry.id, uncovered & (vocab | answer))


def test_a_chinese_id_is_neither_the_language_nor_the_region_and_living_is_not_going_live() -> None:
    tokens = faq_index().tokenizer.tokens
    assert "#chinese_id" in tokens("I have no Chinese ID, can I file?")
    assert "#chinese" not in tokens("I have no Chinese ID, can I file?") and "chinese" not in tokens("no Chinese ID")
    assert "#mainland" not in tokens("没有大陆身份证能备案吗")
    assert "#launch" not in tokens("I live in Shanghai") and "#launch" in tokens("when can the site go live")
