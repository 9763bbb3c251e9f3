"""`plan`: blockers, obligations and readiness from every fact alone and in combination, in both
languages, through the rule function and through `python -m bot plan --json` (the contract)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from bot.cli import main
from knowledge.domain import LANGUAGES, Language
from knowledge.readiness import Readiness, plan

ECS = {"location": "mainland", "provider": "alibaba", "product": "ecs", "billing": "subscription", "months": 6}
ECS_OK = {**ECS, "bandwidth": True}
ALL_CLEAR = Readiness(
    account_site="china",
    identity_verified=True,
    entity="individual",
    account_has_other_entity=False,
    reads_chinese=True,
    domain_ready=True,
    content="general",
    commercial=False,
    server_account="same",
)
# Each fact alone that blocks, with the rule it is blocked by.
BLOCKERS = [
    ({"account_site": "international"}, "ready.international"),
    ({"identity_verified": False}, "ready.identity"),
    ({"account_has_other_entity": True}, "ready.one_entity"),
    ({"reads_chinese": False}, "ready.chinese"),
    ({"domain_ready": False}, "ready.domain"),
    ({"content": "medical-devices", "pre_approval": False}, "ready.pre_approval"),
    ({"server_account": "other-personal"}, "ready.owner_personal"),
]


def test_everything_known_and_fine_is_ready() -> None:
    result = plan(ECS_OK, ALL_CLEAR)
    assert (result.filing_required, result.eligible, result.ready, result.blockers, result.unknown) == (
        True,
        True,
        True,
        [],
        [],
    )
    whens = {o.rule: o.when for o in result.obligations}
    assert whens == {
        "oblig.documents": "before_filing",
        "oblig.local_rules": "before_filing",
        "oblig.pre_approval_other": "before_filing",  # "general": the guide's fields are examples
        "oblig.icp_number": "after_approval",
        "oblig.app_number": "after_approval",
        "oblig.copyright": "after_approval",
        "oblig.psb": "after_launch",
    }


@pytest.mark.parametrize(("change", "rule"), BLOCKERS, ids=[rule for _, rule in BLOCKERS])
def test_each_blocker_alone_makes_the_plan_not_ready(change: dict[str, Any], rule: str) -> None:
    result = plan(ECS_OK, replace(ALL_CLEAR, **change))
    assert result.ready is False and [b.rule for b in result.blockers] == [rule]


def test_blockers_add_up() -> None:
    facts = replace(ALL_CLEAR, account_site="international", reads_chinese=False, domain_ready=False)
    result = plan({**ECS, "bandwidth": False}, facts)  # and the server lacks public bandwidth
    assert [b.rule for b in result.blockers] == ["ready.server", "ready.international", "ready.chinese", "ready.domain"]


@pytest.mark.parametrize(
    "fact", ["account_site", "identity_verified", "account_has_other_entity", "reads_chinese", "domain_ready"]
)
def test_a_fact_not_given_leaves_readiness_open(fact: str) -> None:
    result = plan(ECS_OK, replace(ALL_CLEAR, **{fact: None}))
    assert result.ready is None and result.unknown == [fact]


def test_pre_approval_matters_only_for_a_field_that_needs_it() -> None:
    assert plan(ECS_OK, replace(ALL_CLEAR, content="news")).unknown == ["pre_approval"]
    assert plan(ECS_OK, replace(ALL_CLEAR, content="news", pre_approval=True)).ready is True
    assert plan(ECS_OK, replace(ALL_CLEAR, content=None)).unknown == ["content"]


def test_the_server_owner_three_ways() -> None:
    same = plan(ECS_OK, ALL_CLEAR)
    enterprise = plan(ECS_OK, replace(ALL_CLEAR, server_account="other-enterprise"))
    personal = plan(ECS_OK, replace(ALL_CLEAR, server_account="other-personal"))
    assert same.ready is True and "oblig.service_code" not in same.rules
    assert enterprise.ready is True and "oblig.service_code" in enterprise.rules
    assert personal.ready is False and "ready.owner_personal" in personal.rules


def test_cdn_origin_both_ways_and_a_domain_product_is_not_blocked() -> None:
    cdn = {"location": "mainland", "provider": "alibaba", "product": "cdn"}
    on_alibaba = plan(cdn, replace(ALL_CLEAR, cdn_origin="alibaba"))
    elsewhere = plan(cdn, replace(ALL_CLEAR, cdn_origin="elsewhere"))
    assert "oblig.cdn_origin" in on_alibaba.rules and "oblig.cdn_origin" not in [o.rule for o in elsewhere.obligations]
    assert on_alibaba.blockers == [] and on_alibaba.ready is None  # not a filing through this server


def test_commercial_service_needs_an_icp_license_after_approval() -> None:
    result = plan(ECS_OK, replace(ALL_CLEAR, commercial=True))
    assert ("oblig.icp_license", "after_approval") in [(o.rule, o.when) for o in result.obligations]


def test_no_filing_needed_and_missing_server_facts() -> None:
    outside = plan({"location": "hong-kong"}, ALL_CLEAR)
    assert (outside.filing_required, outside.ready, outside.blockers) == (False, None, [])
    missing = plan({"location": "mainland", "provider": "alibaba", "product": "ecs"}, ALL_CLEAR)
    assert missing.ready is None and missing.unknown[0] == "billing"
    assert plan({"location": "mainland"}, replace(ALL_CLEAR, domain_ready=False)).ready is False  # a known blocker


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_blocker_and_obligation_renders_in_both_languages(lang: Language) -> None:
    facts = replace(ALL_CLEAR, **{k: v for change, _ in BLOCKERS for k, v in change.items()}, commercial=True)
    data = plan({**ECS, "bandwidth": False}, facts).as_dict(lang)
    # the server blocks, so whose server it is does not arise yet: every other blocker is there
    assert len(data["blockers"]) == 7 and all(b["text"] and b["fix"] for b in data["blockers"])
    owner = plan(ECS_OK, replace(ALL_CLEAR, server_account="other-personal")).as_dict(lang)["blockers"]
    assert owner[0]["text"] and owner[0]["fix"]
    assert all(o["text"] for o in data["obligations"])
    if lang == "zh":
        assert "医疗器械" in json.dumps(data, ensure_ascii=False)


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    code = main(["plan", *args])
    out = capsys.readouterr()
    return code, (json.loads(out.out) if code == 0 and "--json" in args else out.err.strip())


SERVER = ["--location", "mainland", "--provider", "alibaba", "--product", "ecs", "--billing", "subscription"]
SERVER += ["--months", "6", "--public-bandwidth", "yes"]
READY = ["--account-site", "china", "--identity-verified", "yes", "--account-has-other-entity", "no"]
READY += ["--reads-chinese", "yes", "--domain-ready", "yes", "--content", "general", "--server-account", "same"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_command_line_contract(capsys: pytest.CaptureFixture[str], lang: str) -> None:
    code, data = _cli(capsys, *SERVER, *READY, "--lang", lang, "--json")
    assert code == 0 and data["ready"] is True and data["eligible"] is True and data["filing_required"] is True
    assert {"blockers", "obligations", "unknown", "filing_type", "rules"} <= set(data)
    assert data["filing_type"] is None
    code, data = _cli(capsys, *SERVER, "--account-site", "international", "--json", "--lang", lang)
    assert data["ready"] is False and data["blockers"][0]["rule"] == "ready.international"
    assert set(data["blockers"][0]) == {"rule", "text", "fix"}
    assert "identity_verified" in data["unknown"]
    flags = ["--entity-filed-with-alibaba", "no", "--entity-has-miit-record", "no", "--website-filed-with-miit", "no"]
    code, data = _cli(capsys, *SERVER, *READY, *flags, "--json")
    assert data["filing_type"]["filing_type"] == "first_filing"


@pytest.mark.parametrize(
    "args",
    [
        ["--location", "mainland", "--cdn-origin", "alibaba"],
        ["--location", "mainland", "--pre-approval", "yes"],
        ["--location", "mainland", "--entity-filed-with-alibaba", "yes"],
        ["--location", "mainland", "--content", "gossip"],
        [
            "--location",
            "mainland",
            "--entity-filed-with-alibaba",
            "yes",
            "--entity-has-miit-record",
            "no",
            "--website-filed-with-miit",
            "no",
        ],
    ],
)
def test_bad_or_contradictory_flags_exit_2_with_one_line(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    code, err = _cli(capsys, *args)
    assert code == 2 and err.count("\n") == 0 and err.startswith("python -m bot plan")
