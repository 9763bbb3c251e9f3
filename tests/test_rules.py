"""Every seed rule and its boundaries, on the pure rule functions."""

from __future__ import annotations

import pytest

from knowledge.domain import Billing, FilingType, Location, Product, Provider
from knowledge.eligibility import MissingFact, ServerFacts, assess
from knowledge.filing_type import ContradictoryAnswers, determine_filing_type, service_code_situation

MAINLAND, ALIBABA, SUB, PAYG = Location.MAINLAND, Provider.ALIBABA, Billing.SUBSCRIPTION, Billing.PAY_AS_YOU_GO


def server(
    product: Product = Product.ECS, billing: Billing = SUB, months: int | None = 3, bandwidth: bool | None = True
) -> ServerFacts:
    return ServerFacts(MAINLAND, ALIBABA, product, billing, months, bandwidth)


# --- location ---------------------------------------------------------------------------------
@pytest.mark.parametrize("location", [Location.HONG_KONG, Location.OVERSEAS])
@pytest.mark.parametrize("product", list(Product))
def test_outside_mainland_needs_no_filing_whatever_the_product(location: Location, product: Product) -> None:
    v = assess(ServerFacts(location, ALIBABA, product, PAYG, None, False))
    assert (v.filing_required, v.eligible, v.free_service_codes) == (False, None, None)
    assert v.rules == ["loc.outside_mainland", "next.no_filing"]


def test_mainland_always_needs_filing() -> None:
    for product in Product:
        v = assess(server(product))
        assert v.filing_required is True
        assert v.rules[0] == "loc.mainland_needs_filing"


# --- provider ---------------------------------------------------------------------------------
def test_other_vendor_files_through_that_vendor() -> None:
    v = assess(ServerFacts(MAINLAND, Provider.OTHER))
    assert (v.filing_required, v.eligible) == (True, False)
    assert "vendor.other" in v.rules and "next.file_with_vendor" in v.rules


# --- ECS and Simple Application Server ----------------------------------------------------------
@pytest.mark.parametrize(("product", "codes_rule"), [(Product.ECS, "codes.ecs_free"), (Product.SAS, "codes.sas_free")])
def test_eligible_server_gets_five_free_codes(product: Product, codes_rule: str) -> None:
    v = assess(server(product, months=3))
    assert (v.eligible, v.free_service_codes) == (True, 5)
    assert codes_rule in v.rules and "next.ready_to_file" in v.rules


@pytest.mark.parametrize("product", [Product.ECS, Product.SAS])
@pytest.mark.parametrize(("months", "eligible"), [(1, False), (2, False), (3, True), (4, True), (36, True)])
def test_three_month_boundary(product: Product, months: int, eligible: bool) -> None:
    v = assess(server(product, months=months))
    assert v.eligible is eligible
    assert ("req.months_ok" if eligible else "req.months_short") in v.rules
    assert ("next.renew" in v.rules) is not eligible
    assert (v.free_service_codes == 5) is eligible


@pytest.mark.parametrize("product", [Product.ECS, Product.SAS])
def test_pay_as_you_go_is_not_eligible(product: Product) -> None:
    v = assess(server(product, PAYG, months=None, bandwidth=None))
    assert v.eligible is False and v.free_service_codes is None
    assert "req.pay_as_you_go" in v.rules and "next.buy_subscription" in v.rules


def test_pay_as_you_go_ignores_months_but_reports_known_missing_bandwidth() -> None:
    v = assess(server(Product.ECS, PAYG, months=24, bandwidth=False))
    assert "req.months_ok" not in v.rules
    assert {"req.pay_as_you_go", "req.bandwidth_missing", "next.buy_bandwidth"} <= set(v.rules)


def test_ecs_without_public_bandwidth_is_not_eligible() -> None:
    v = assess(server(Product.ECS, months=12, bandwidth=False))
    assert v.eligible is False
    assert "req.bandwidth_missing" in v.rules and "next.buy_bandwidth" in v.rules


def test_ecs_reports_every_failed_requirement_at_once() -> None:
    v = assess(server(Product.ECS, months=2, bandwidth=False))
    assert {"req.months_short", "req.bandwidth_missing", "next.renew", "next.buy_bandwidth"} <= set(v.rules)


def test_bandwidth_does_not_matter_for_simple_application_server() -> None:
    assert assess(server(Product.SAS, months=3, bandwidth=False)).eligible is True
    assert assess(server(Product.SAS, months=3, bandwidth=None)).eligible is True


# --- products that cannot produce a service code -------------------------------------------------
def test_slb_gives_backend_ecs_ip() -> None:
    v = assess(server(Product.SLB))
    assert v.eligible is False and v.rules[1:] == ["slb.reason", "product.only_ecs_sas", "slb.next"]


@pytest.mark.parametrize("product", [Product.ACK, Product.ACS])
def test_containers_use_another_ecs_of_the_account(product: Product) -> None:
    v = assess(server(product))
    assert v.eligible is False and "ack_acs.next" in v.rules and "product.only_ecs_sas" in v.rules


@pytest.mark.parametrize(
    ("product", "reason"),
    [
        (Product.OSS, "oss.reason"),
        (Product.CDN, "cdn.reason"),
        (Product.WAF, "waf.reason"),
        (Product.ANTI_DDOS, "antiddos.reason"),
    ],
)
def test_domain_products_need_an_miit_number_from_any_provider(product: Product, reason: str) -> None:
    v = assess(server(product))
    assert (v.filing_required, v.eligible, v.free_service_codes) == (True, False, None)
    # "Alibaba Cloud is not required to be the registered access provider": said of OSS and CDN only
    if product in (Product.OSS, Product.CDN):
        assert reason in v.rules and "domain.any_provider" in v.rules and "next.get_miit_number" in v.rules
    else:
        assert reason in v.rules and "domain.via_host" in v.rules and "next.file_via_host" in v.rules
    assert ("cdn.origin_warning" in v.rules) is (product is Product.CDN)


# --- missing facts and bad values --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("facts", "missing"),
    [
        (ServerFacts(MAINLAND), "provider"),
        (ServerFacts(MAINLAND, ALIBABA), "product"),
        (ServerFacts(MAINLAND, ALIBABA, Product.ECS), "billing"),
        (ServerFacts(MAINLAND, ALIBABA, Product.ECS, SUB), "months"),
        (ServerFacts(MAINLAND, ALIBABA, Product.ECS, SUB, 3), "public_bandwidth"),
    ],
)
def test_a_needed_fact_that_is_missing_is_named(facts: ServerFacts, missing: str) -> None:
    with pytest.raises(MissingFact) as exc:
        assess(facts)
    assert exc.value.fact == missing


@pytest.mark.parametrize("months", [0, -1, 1000])
def test_months_out_of_range_are_refused(months: int) -> None:
    with pytest.raises(ValueError):
        server(months=months)


# --- filing types: the five cases of the seed and the two contradictions ------------------------------
@pytest.mark.parametrize(
    ("alibaba", "miit", "site", "kind", "rule"),
    [
        (False, False, False, FilingType.FIRST_FILING, "type.first_filing"),
        (False, True, False, FilingType.ADD_SERVICE, "type.add_service_new_entity"),
        (False, True, True, FilingType.ADD_ACCESS, "type.add_access_new_entity"),
        (True, True, False, FilingType.ADD_SERVICE, "type.add_service_existing"),
        (True, True, True, FilingType.ADD_ACCESS, "type.add_access_existing"),
    ],
)
def test_filing_types(alibaba: bool, miit: bool, site: bool, kind: FilingType, rule: str) -> None:
    result = determine_filing_type(alibaba, miit, site)
    assert result.filing_type is kind and result.entity_with_alibaba is alibaba
    assert result.rules[0] == rule and "type.automatic" in result.rules
    assert ("type.registrar_unaffected" in result.rules) is (kind is FilingType.ADD_ACCESS)


@pytest.mark.parametrize(
    ("alibaba", "miit", "site", "rule"),
    [
        (True, False, False, "type.contradiction.alibaba_without_miit"),
        (True, False, True, "type.contradiction.alibaba_without_miit"),
        (False, False, True, "type.contradiction.site_without_entity"),
    ],
)
def test_contradictory_answers(alibaba: bool, miit: bool, site: bool, rule: str) -> None:
    with pytest.raises(ContradictoryAnswers) as exc:
        determine_filing_type(alibaba, miit, site)
    assert exc.value.finding.key == rule


def test_service_code_situation() -> None:
    assert service_code_situation(True).key == "code.same_account"
    assert service_code_situation(False).key == "code.different_account"
    assert "enterprise" in service_code_situation(False).text("en")
    assert "企业账号" in service_code_situation(False).text("zh")
