"""Statements that once said more (or less) than the sources: each as the sources say it now."""

from __future__ import annotations

import pytest

from dialogs.registry import dialogs
from knowledge.data import load_yaml
from knowledge.domain import LANGUAGES, Language
from knowledge.statements import statement
from knowledge.texts import catalog

STATEMENTS = load_yaml("statements.yaml")
FAQ = load_yaml("faq.yaml")


def _faq(entry_id: str, lang: Language) -> str:
    return str(next(e for e in FAQ if e["id"] == entry_id)["a"][lang])


def _everything(lang: Language) -> list[str]:
    """Every sentence the bot can state: statements, FAQ answers, interface texts."""
    texts = [str(v[lang]) for v in STATEMENTS.values() if isinstance(v, dict) and lang in v]
    texts += [str(e["a"][lang]) for e in FAQ]
    return texts + list(catalog(lang).values())


def _verdict(lang: Language, product: str) -> str:
    dialog = dialogs()["check"]
    conv = dialog.new()
    for value in ("mainland", "alibaba", product, "subscription", 6, True):
        if conv.state not in dialog.by_name:
            break
        dialog.answer(conv, value)
    return dialog.render(conv, lang).text


def test_slb_asks_only_for_a_backend_ecs_instances_ip() -> None:
    # The source: "If you use SLB, you must provide the IP address of a backend ECS instance."
    for text in (statement("slb.next").text("en"), _faq("slb", "en")):
        assert "IP address of a backend ECS instance" in text and "must meet" not in text
    for text in (statement("slb.next").text("zh"), _faq("slb", "zh")):
        assert "后端 ECS 实例的 IP 地址" in text and "须满足" not in text


def test_a_pay_as_you_go_server_is_told_what_the_source_says() -> None:
    # The source: "renew your subscription or purchase an eligible server."
    assert "Renew your subscription or purchase an eligible server" in _faq("pay-as-you-go", "en")
    assert "Switch to" not in _faq("pay-as-you-go", "en") and "转为" not in _faq("pay-as-you-go", "zh")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_five_free_codes_always_come_with_the_number_varying_by_server_type(lang: Language) -> None:
    varies = {"en": "varies by server type", "zh": "因服务器类型而异"}[lang]
    five = {"en": "5 free", "zh": "5 个免费"}[lang]
    for product in ("ecs", "sas"):
        assert varies in _verdict(lang, product)
    for entry in FAQ:
        if five in str(entry["a"][lang]):
            assert varies in str(entry["a"][lang]), entry["id"]
    assert varies in statement("codes.sixth_free").text(lang, n=6, instance="i-abc")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_reading_and_writing_chinese_is_required_not_softened(lang: Language) -> None:
    # The source: "You must be able to read and write Chinese to proceed."
    required = {"en": "you must be able to read and write Chinese to proceed", "zh": "您必须能够读写中文"}[lang]
    assert required in statement("steps.prep.chinese").text(lang)
    assert required in _faq("chinese-only", lang)
    softened = {"en": "someone helping you", "zh": "协助您的人"}[lang]
    assert not [text for text in _everything(lang) if softened in text]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("product", ["oss", "cdn", "waf", "anti-ddos"])
def test_a_domain_product_gets_a_neutral_headline_saying_what_is_needed(lang: Language, product: str) -> None:
    text = _verdict(lang, product)
    assert not text.startswith("❌") and text.startswith("ℹ️")
    if product in ("oss", "cdn"):
        assert {"en": "ICP filing number from the MIIT", "zh": "工信部的 ICP 备案号"}[lang] in text.splitlines()[0]
    else:  # the source says "any provider" of OSS and CDN only: WAF and Anti-DDoS go through the host's
        assert {"en": "through the access provider", "zh": "接入商办理"}[lang] in text.splitlines()[0]
        assert not [s for s in ("any access provider", "接入商不限", "不必是阿里云") if s in text]
    assert "也不需要" not in text  # read as "no filing is needed"


def test_chinese_wording() -> None:
    zh = _everything("zh")
    assert all("（无主体，即主体未在阿里云备案）" in text for text in zh if "无主体" in text)
    assert "服务器是否与您用于备案的阿里云账号是同一个账号" not in catalog("zh")["filingtype.q.same_account"]
    assert not [text for text in zh if "ICP 经营许可证" in text]  # the usual term: 经营性 ICP 许可证


def test_faq_answers_that_use_further_public_facts_name_their_public_source() -> None:
    """An answer that goes beyond the seeds (Alibaba Cloud's help pages, local variation) says
    where that was published, as ../shared/ICP-FACTS.md gives it."""
    beyond = ("Alibaba Cloud's help", "some pages count", "Provinces may ask", "another province")
    for entry in FAQ:
        if any(marker in str(entry["a"]["en"]) for marker in beyond):
            assert entry.get("public"), entry["id"]
