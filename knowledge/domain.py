"""The vocabulary of the rules: what a user can tell us about their server and entity."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

Language = Literal["en", "zh"]
LANGUAGES: tuple[Language, ...] = ("en", "zh")


class Location(StrEnum):
    MAINLAND = "mainland"
    HONG_KONG = "hong-kong"
    OVERSEAS = "overseas"


class Provider(StrEnum):
    ALIBABA = "alibaba"
    OTHER = "other"


class Product(StrEnum):
    ECS = "ecs"
    SAS = "sas"  # Simple Application Server
    SLB = "slb"
    ACK = "ack"
    ACS = "acs"
    OSS = "oss"
    CDN = "cdn"
    WAF = "waf"
    ANTI_DDOS = "anti-ddos"


class Billing(StrEnum):
    SUBSCRIPTION = "subscription"
    PAY_AS_YOU_GO = "pay-as-you-go"


class FilingType(StrEnum):
    FIRST_FILING = "first_filing"
    ADD_SERVICE = "add_service"
    ADD_ACCESS = "add_access"


SERVER_PRODUCTS = frozenset({Product.ECS, Product.SAS})
MIN_SUBSCRIPTION_MONTHS = 3
MAX_SUBSCRIPTION_MONTHS = 999
FREE_SERVICE_CODES_PER_INSTANCE = 5


def normalize_language(code: str | None, default: Language = "en") -> Language:
    """Map a Telegram language_code (or our own code) to a supported language."""
    if not code:
        return default
    code = code.lower()
    if code.startswith("zh"):
        return "zh"
    if code.startswith("en"):
        return "en"
    return default
