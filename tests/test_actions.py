"""The button-action registry: every declared action round-trips through its callback data within
Telegram's 64 bytes, and the decoder refuses whatever it did not produce."""

from __future__ import annotations

import dataclasses
import types
import typing
from enum import Enum
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialogs import actions
from dialogs.actions import ACTIONS, Action, decode, encode
from knowledge.texts import t
from tests.harness import BotHarness


def _samples(hint: Any) -> list[Any]:
    """Values of a field's type: the extremes of each kind."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        return [0, 1, 10**18 - 1] if args[0] is int else ["a", "need-filing", "x" * 12]
    if origin is typing.Literal:
        return list(args)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return list(hint)
    if origin in (typing.Union, types.UnionType):
        return [None, *_samples(next(a for a in args if a is not type(None)))]
    raise AssertionError(f"no samples for {hint!r}")


def _instances(cls: type[Action]) -> list[Action]:
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = dataclasses.fields(cls)
    if not fields:
        return [cls()]
    out = []
    for i in range(max(len(_samples(hints[f.name])) for f in fields)):
        values = {f.name: _samples(hints[f.name])[i % len(_samples(hints[f.name]))] for f in fields}
        out.append(cls(**values))
    return out


@pytest.mark.parametrize("cls", ACTIONS, ids=lambda c: c.__name__)
def test_every_declared_action_round_trips_within_64_bytes(cls: type[Action]) -> None:
    for action in _instances(cls):
        data = encode(action)
        assert len(data.encode()) <= actions.MAX_CALLBACK_BYTES
        assert decode(data) == action, data


def test_tags_are_unique() -> None:
    tags = [cls.tag for cls in ACTIONS]
    assert len(tags) == len(set(tags))


@pytest.mark.parametrize(
    "data",
    [
        "",
        "c:show:²",  # a digit that is not ASCII
        "c:show:12345678901234567890",  # twenty digits: beyond 64 bits
        "c:show:-1",
        "c:show:01",  # not as we write it
        "c:show:1:2",  # a field too many
        "c:set:1:available",  # a field too few
        "c:set:1:available:bogus",  # not a status
        "p:go:preparing:nowhere",
        "r:1:6",  # six stars
        "f:maybe",
        "h:whatever",
        "m:settings",
        "l:fr",
        "d:check:location:x:mainland",  # no such verb
        "d:check:loc ation:a:mainland",
        "z:1",  # no such action
        "c",
        "c:",
        "s:claim:" + "1" * 70,  # over 64 bytes
        "q:show:" + "a" * 41,
        "m:check\udcff",  # a lone surrogate
    ],
)
def test_forged_or_malformed_data_is_refused(data: str) -> None:
    assert decode(data) is None


@given(st.text(max_size=80))
def test_the_decoder_never_raises_and_accepts_only_what_it_encodes_back(data: str) -> None:
    action = decode(data)
    if action is not None:
        assert encode(action) == data


@pytest.mark.parametrize("data", ["c:show:²", "c:show:12345678901234567890", "r:1:6", "z:1", "q:show:gone-entry"])
async def test_a_forged_button_gets_a_polite_toast_and_the_menu(sqlite_url: str, data: str) -> None:
    async with BotHarness(sqlite_url) as bot:
        await bot.send(1, "/start")
        calls = await bot.press(1, data)
        toast = [c for c in calls if c.method == "answerCallbackQuery"]
        assert toast and toast[0].params.get("text") == t("en", "stale.gone")
        assert any(c.method == "sendMessage" and c.params.get("text") == t("en", "menu.title") for c in calls)
        assert bot.errors() == 0


def test_every_user_button_and_command_has_exactly_one_feature() -> None:
    from dialogs.features import COMMANDS, FEATURES

    handled = [kind for feature in FEATURES for kind in feature.buttons]
    staff = {actions.StaffClaim, actions.StaffClose}  # the staff group's, handled by bot/support.py
    assert sorted(handled, key=str) == sorted(set(ACTIONS) - staff, key=str)
    declared = [name for feature in FEATURES for name in feature.commands]
    assert sorted(declared) == sorted(COMMANDS)  # the command menu names each once
