"""A dialog as data: its questions, its forward transitions, and one shared transitions Machine.

A dialog is declared as a table (questions and forward moves with named conditions). Back
moves are derived from the table, one per forward edge, guarded by where the user came from,
so the machine (and its generated diagram) holds every move a user can make.

Per update `Dialog.fire` triggers one event of the shared machine on the user's `Conversation`;
no Machine is ever built per user, and no conversation is kept by the machine.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict
from transitions import EventData, Machine, MachineError

from dialogs import actions
from dialogs.effects import Effect
from dialogs.ports import UserData
from dialogs.screens import Button, Reply, rows
from dialogs.session import Session
from knowledge.data import load_yaml
from knowledge.domain import LANGUAGES, Language
from knowledge.inputs import InvalidInput
from knowledge.texts import t


class Answers(BaseModel):
    """Base of a dialog's typed answers; assignment validates ("yes" -> True, "3" -> 3)."""

    model_config = ConfigDict(validate_assignment=True, use_enum_values=False)


Predicate = Callable[[Any], bool]


@dataclass(frozen=True)
class Move:
    """A forward move: `trigger` from `source` to `dest`, taken when `when(answers)` holds."""

    source: str
    dest: str
    when: Predicate | None = None
    trigger: str = "answer"


@dataclass(frozen=True)
class Question:
    name: str  # the state and the answers field
    prompt: str  # text key
    options: tuple[str, ...]
    option_label: Callable[[Language, str], str]
    columns: int = 2
    parse_typed: Callable[[str], Any] | None = None  # for questions that also take a typed value
    sensitive: bool = False  # masked in the turn log and in staff views (service codes)
    # An option may be named inside a longer answer ("my server is in Singapore", 服务器在杭州).
    named_in_text: bool = False


AnswersT = TypeVar("AnswersT", bound=Answers)


@dataclass(eq=False)  # eq=False: transitions refuses to add a model equal to one it holds
class Conversation(Generic[AnswersT]):
    state: str
    answers: AnswersT
    history: list[str] = field(default_factory=list)


# A typed value of the right kind that cannot be accepted; carries the text key explaining why.
InvalidTypedAnswer = InvalidInput


def _answers_satisfy(when: Callable[[Any], bool]) -> Callable[[EventData], bool]:
    """A move's condition on the answers, as a transitions condition (named for the diagrams)."""

    def condition(event: EventData) -> bool:
        conversation = event.model
        assert isinstance(conversation, Conversation)
        return when(conversation.answers)

    condition.__name__ = when.__name__
    return condition


def _came_from(source: str) -> Callable[[EventData], bool]:
    """Back goes to where the conversation came from."""

    def condition(event: EventData) -> bool:
        conversation = event.model
        assert isinstance(conversation, Conversation)
        return bool(conversation.history) and conversation.history[-1] == source

    condition.__name__ = f"came_from_{source}"
    return condition


class Dialog(Generic[AnswersT]):
    """Base for the dialogs. Subclasses set the class attributes and render the end screen."""

    name: ClassVar[str]
    answers_type: type[AnswersT]  # set on the subclass (a ClassVar cannot name a type variable)
    questions: ClassVar[Sequence[Question]] = ()
    screens: ClassVar[Sequence[str]] = ()  # information screens (states without a question)
    moves: ClassVar[Sequence[Move]]
    # Its end screen reports something done (a code saved) and goes stale at once: the user is not
    # kept "in" the dialog there, so it never comes back as "where you were".
    leaves_when_done: ClassVar[bool] = False
    # Where Back from the first question leads (a button's data): the screen the dialog was
    # opened from (the code list, the progress screen), or else the menu.
    back_to: ClassVar[str | None] = None
    # After a question answered at the dialog's end screen: what the way back to it says and its
    # button (text keys). A result, unless the dialog's screens are pages to read (/steps).
    way_back_to_screen: ClassVar[tuple[str, str]] = ("faq.back_to_result", "btn.show_result")

    def __init__(self) -> None:
        self.by_name = {q.name: q for q in self.questions}
        self._question_screens: dict[tuple[str, str, str | None, int, bool], Reply] = {}
        self._option_names: dict[tuple[str, str], frozenset[str]] = {}
        states = [q.name for q in self.questions] + list(self.screens)
        self.initial = states[0]
        transitions: list[dict[str, Any]] = []
        for m in self.moves:
            spec: dict[str, Any] = {"trigger": m.trigger, "source": m.source, "dest": m.dest}
            if m.when is not None:
                spec["conditions"] = [_answers_satisfy(m.when)]
            transitions.append(spec)
        for source, dest in dict.fromkeys((m.source, m.dest) for m in self.moves):
            transitions.append({"trigger": "back", "source": dest, "dest": source, "conditions": [_came_from(source)]})
        self.machine = Machine(
            model=None,
            states=states,
            initial=self.initial,
            transitions=transitions,
            auto_transitions=False,
            send_event=True,
            name=self.name,
        )

    # --- state handling -----------------------------------------------------------------
    def new(self) -> Conversation[AnswersT]:
        return Conversation(self.initial, self.answers_type())

    def load(self, state: str, answers: dict[str, Any], history: list[str]) -> Conversation[AnswersT]:
        if state not in self.machine.states:  # a state from an older version of the dialog
            return self.new()
        return Conversation(state, self.answers_type.model_validate(answers), list(history))

    def fire(self, conv: Conversation[AnswersT], trigger: str) -> bool:
        """Run one trigger on the shared machine; True when the state changed."""
        source = conv.state
        event = self.machine.events.get(trigger)
        # The shared machine fires the event for this conversation directly: an Event needs only the
        # model's `state` attribute, so the conversation is never registered with the machine (no
        # add_model/remove_model binding a method per state on every turn, nothing left to leak).
        try:
            moved = event is not None and bool(event.trigger(conv))
        except MachineError:  # the trigger does not apply in this state
            moved = False
        if moved:
            if trigger == "back":
                conv.history.pop()
            else:
                conv.history.append(source)
        return moved

    def begin(self, conv: Conversation[AnswersT], session: Session, dialogs: Mapping[str, Dialog[Any]]) -> None:
        """Called when the dialog starts at its first question: the place to take what it needs
        from the session (another dialog's answers). Also on "Start again"."""
        return None

    def resume(self, conv: Conversation[AnswersT]) -> None:
        """Called after `begin` when the user comes back to the dialog (not on "Start again"): the
        place to go on to where their earlier answers lead."""
        return None

    def refusal(self, conv: Conversation[AnswersT], value: Any, data: UserData | None, lang: Language) -> str | None:
        """Why this answer (pressed or typed) cannot be taken, given the earlier ones and what is
        stored, in the user's language; None when it can. The question then stays open."""
        return None

    def answer(self, conv: Conversation[AnswersT], value: Any) -> bool:
        question = self.by_name[conv.state]
        setattr(conv.answers, question.name, value)
        return self.fire(conv, "answer")

    def answered(self, conv: Conversation[AnswersT]) -> Conversation[AnswersT] | None:
        """Where the user's answers lead from where they stand: on through each question they have
        answered to the dialog's result; None while a question on the way is still open. Back keeps
        an answer (marked): it stays the user's until they change it."""
        walk = Conversation(conv.state, conv.answers.model_copy(deep=True), list(conv.history))
        while walk.state in self.by_name:
            if getattr(walk.answers, walk.state) is None or not self.fire(walk, "answer"):
                return None
        return walk

    def visited(self, conv: Conversation[AnswersT]) -> dict[str, Any]:
        """The answers on the user's current path; answers left on abandoned branches do not count."""
        asked = set(conv.history) | {conv.state}
        return {k: v for k, v in conv.answers if k in asked and v is not None}

    # --- input -------------------------------------------------------------------------------
    def match_typed(self, conv: Conversation[AnswersT], text: str) -> Any | None:
        """A typed reply to the current question: an option's label or value, or a typed value.

        Returns the value, None when the text is no answer at all, and raises InvalidTypedAnswer
        when it looks like an answer of the right kind but cannot be accepted.
        """
        question = self.by_name.get(conv.state)
        if question is None:
            return None
        if question.parse_typed is not None:  # first: "-3" folds to the option "3"
            typed = question.parse_typed(text)
            if typed is not None:
                return typed
        folded = fold(text)
        for option in question.options:
            if folded in self._names(question, option):
                return option
        leading = self._leading_yes_no(question, text, folded)
        if leading is not None:
            return leading
        if question.named_in_text and "?" not in text and "？" not in text:  # a question names no answer
            named = self._named_in(question, folded)
            if named is not None:
                return named
        return self._misspelt(question, folded)

    def _named_in(self, question: Question, folded: str) -> str | None:
        """The one option the text names somewhere in it: its names found, the longest first, each
        place in the text taken once ("中国香港" is Hong Kong, not also 中国). None when the text
        names two options ("in Shanghai, server in Singapore", "China but the server is in HK") or
        negates ("not in China", 不在国内, 中国以外). A two-letter name ("hk", "us": other words too)
        can make the text name two options, but never decides one on its own."""
        if _NAMED_NEGATED.search(folded):
            return None
        found: list[tuple[int, int, str, bool]] = []  # (start, end, option, decides)
        for option in question.options:
            for name in self._names(question, option):
                # Latin letters as a whole word (Chinese may touch it: 服务器在singapore); Chinese anywhere.
                pattern = rf"(?<![a-z0-9]){re.escape(name)}(?![a-z0-9])" if name.isascii() else re.escape(name)
                for match in re.finditer(pattern, folded):
                    found.append((match.start(), match.end(), option, not (name.isascii() and len(name) < 3)))
        taken: list[tuple[int, int, str, bool]] = []
        for start, end, option, decides in sorted(found, key=lambda f: f[1] - f[0], reverse=True):
            if all(end <= s or start >= e for s, e, _, _ in taken):
                taken.append((start, end, option, decides))
        options = {option for _, _, option, _ in taken}
        if len(options) != 1 or not any(decides for _, _, _, decides in taken):
            return None
        return options.pop()

    def _leading_yes_no(self, question: Question, text: str, folded: str) -> str | None:
        """A plain yes or no followed by more words: "yes it has bandwidth", "不是，我们没备过". Only at a
        yes/no question ("china mainland users, server in Hong Kong" names a place, not an answer),
        and not when anything after it may take it back: a question mark, "but" (但), "no idea"
        (不知道), another answer named ("yes and no"), or, after a yes, a negation ("是，但还没实名")."""
        first, _, rest = folded.partition(" ")
        said = _PLAIN_YES.get(first)
        if not rest or said is None or not {"yes", "no"} <= set(question.options):
            return None
        if "?" in text or "？" in text or _TAKEN_BACK.search(rest) or (said == "yes" and _NEGATED.search(rest)):
            return None
        other = "no" if said == "yes" else "yes"
        return None if self._names(question, other) & set(rest.split()) else said

    def _misspelt(self, question: Question, folded: str) -> str | None:
        """The one option a typed word misspells by a letter or two ("subscripton"); None when it is
        too short to tell, is no word in Latin letters, or comes as close to two options."""
        if (
            len(folded) < TYPO_MIN_LENGTH
            or not folded.replace(" ", "").isascii()
            or not folded.replace(" ", "").isalpha()
        ):
            return None
        from rapidfuzz.distance import Levenshtein  # imported on the first typo, not at start-up

        allowed = 1 if len(folded) < TYPO_TWO_FROM else 2
        near = {
            option
            for option in question.options
            for name in self._names(question, option)
            if len(name) >= TYPO_MIN_LENGTH
            and name.isascii()
            and Levenshtein.distance(folded, name, score_cutoff=allowed) <= allowed
        }
        return near.pop() if len(near) == 1 else None

    def _names(self, question: Question, option: str) -> frozenset[str]:
        """Everything that names an option: its labels in both languages (also without their
        parenthesis), its value, and the synonyms users type (knowledge/answer_synonyms.yaml)."""
        key = (question.name, option)
        names = self._option_names.get(key)
        if names is None:
            labels = [option, *(question.option_label(lang, option) for lang in LANGUAGES)]
            labels += [re.sub(r"[(（].*?[)）]", "", label) for label in labels]
            synonyms = answer_synonyms()
            labels += [str(s) for s in synonyms.get(question.name, {}).get(option, ())]
            labels += [str(s) for s in synonyms.get("*", {}).get(option, ())]
            names = self._option_names[key] = frozenset(fold(label) for label in labels if fold(label))
        return names

    # --- rendering ------------------------------------------------------------------------------
    def render(self, conv: Conversation[AnswersT], lang: Language, edit: bool = False) -> Reply:
        question = self.by_name.get(conv.state)
        if question is None:
            return self.render_screen(conv, lang, edit)
        current = getattr(conv.answers, question.name)
        current_value = current.value if hasattr(current, "value") else current
        if isinstance(current_value, bool):
            current_value = "yes" if current_value else "no"
        # Only an option can be marked; a typed value (a service code...) never enters the cache key.
        selected = str(current_value) if str(current_value) in question.options else None
        # A question screen depends on these alone, and Reply is immutable: built once, then shared.
        key = (conv.state, lang, selected, len(conv.history), edit)
        reply = self._question_screens.get(key)
        if reply is None:
            if len(self._question_screens) >= QUESTION_SCREEN_CACHE:
                self._question_screens.clear()
            reply = self._question_screens[key] = self._question_screen(question, *key)
        return reply

    def _question_screen(
        self, question: Question, state: str, lang: Language, selected: str | None, depth: int, edit: bool
    ) -> Reply:
        buttons = []
        for option in question.options:
            label = question.option_label(lang, option)
            if selected == option:
                label = t(lang, "selected", label=label)
            buttons.append(Button(label, actions.dialog(self.name, state, actions.Verb.ANSWER, option)))
        keyboard = (*rows(buttons, question.columns), (self.back_button(state, depth, lang),))
        progress = t(lang, "question.progress", k=depth + 1)
        return Reply(
            f"{progress}\n{t(lang, question.prompt)}",
            keyboard,
            edit,
            f"{self.name}.q.{state}",
            takes_number=question.parse_typed is not None,
        )

    def back_button(self, state: str, depth: int, lang: Language) -> Button:
        if not depth:  # Back from the first question leaves the dialog
            return Button(t(lang, "btn.back"), self.back_to or actions.menu("menu"))
        return Button(t(lang, "btn.back"), actions.dialog(self.name, state, actions.Verb.BACK))

    def end_rows(self, conv: Conversation[AnswersT], lang: Language) -> tuple[tuple[Button, ...], ...]:
        """Back, Start again and Menu, and a person to ask: the ways on from a result screen. Back
        and Start again only where a question was asked on the way: elsewhere they would lead nowhere."""
        moves = (
            (
                Button(t(lang, "btn.back"), actions.dialog(self.name, conv.state, actions.Verb.BACK)),
                Button(t(lang, "btn.restart"), actions.dialog(self.name, conv.state, actions.Verb.RESTART)),
            )
            if conv.history
            else ()
        )
        return (
            (*moves, Button(t(lang, "btn.menu"), actions.menu("menu"))),
            (Button(t(lang, "btn.human"), actions.encode(actions.Handoff("verdict"))),),
        )

    def render_screen(self, conv: Conversation[AnswersT], lang: Language, edit: bool) -> Reply:
        raise NotImplementedError

    def result_log(self, conv: Conversation[AnswersT]) -> dict[str, Any] | None:
        """What the end screen concluded, for the turn log (None for screens that conclude nothing)."""
        return None

    def finish(self, conv: Conversation[AnswersT], data: UserData | None, now: datetime) -> list[Effect]:
        """Called once when an answer leads to a screen state: what the dialog's result changes
        (storing a service code), as effects. `data` is the turn's read-only UserData."""
        return []

    def takes_free_text(self, conv: Conversation[AnswersT]) -> bool:
        """The open question takes any typed text (a code, a name), not one of its options."""
        question = self.by_name.get(conv.state)
        return question is not None and not question.options and question.parse_typed is not None

    def is_sensitive(self, state: str) -> bool:
        question = self.by_name.get(state)
        return bool(question and question.sensitive)


def yes_no_label(lang: Language, option: str) -> str:
    return t(lang, f"opt.{option}")


def option_label(prefix: str) -> Callable[[Language, str], str]:
    return lambda lang, option: t(lang, f"opt.{prefix}.{option}")


YES_NO = ("yes", "no")
# The plain words of a yes or a no that may lead a longer answer (not an option's other names:
# "中文，不行" at "Can you read Chinese?" is no yes).
# A place named with a negation is no answer to where the server is ("not in China", 不在国内).
_NAMED_NEGATED = re.compile(
    r"\b(?:not|no|non|except|but|other than|isn t|aren t|isnt|arent|outside|beyond|out of)\b|不|没|非|除|以外|之外"
)
_PLAIN_YES = {
    **dict.fromkeys(("yes", "yeah", "yep", "yup", "是", "是的", "对", "对的", "有", "有的", "嗯"), "yes"),
    **dict.fromkeys(("no", "nope", "nah", "否", "不是", "不", "没有", "没", "不对"), "no"),
}
# After the first word, what may take the answer back: "no idea", "no problem", "yes, but…".
_TAKEN_BACK = re.compile(
    r"\b(?:idea|sure|know|clue|maybe|but|however|problem|except)\b|不知道|不确定|不清楚|不太|也许|可能|吧|但|不过|可是|只是"
)
# After a yes, a negation contradicts it ("是，还没实名认证"); after a no it agrees ("不是，我们没备过").
_NEGATED = re.compile(r"\b(?:not|no|never|yet|n't)\b|不|没|未|无")
QUESTION_SCREEN_CACHE = 4096  # built question screens kept per dialog (a few hundred exist)
# A typed word is read as an option it misspells only from this length on ("yes"/"yet" are words
# of their own), by one letter, or by two from TYPO_TWO_FROM letters on.
TYPO_MIN_LENGTH = 5
TYPO_TWO_FROM = 8

_NUMBER = re.compile(r"^\s*(\d{1,6})\s*(months?|mos?|个月|月)?\s*$", re.IGNORECASE)
_YEARS = re.compile(r"^\s*(\S+?)\s*(years?|yrs?|年)\s*$", re.IGNORECASE)
_MONTHS_IN_WORDS = re.compile(r"^\s*(\S+?)\s*(months?|个月|月)?\s*$", re.IGNORECASE)
_EN_NUMBERS = {
    w: i
    for i, w in enumerate(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]
    )
} | {"a": 1, "an": 1, "half a": 0, "eighteen": 18, "twenty-four": 24, "thirty-six": 36}
_ZH_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_PHRASES = {"半年": 6, "half a year": 6, "half year": 6, "一年半": 18, "a year and a half": 18, "一年": 12}
# Something that tries to be a number of months but is not one: "2.5", "three and a half", "半",
# "-3", a range ("3-6", "3 to 6", "3或4"), an estimate ("about 3", "3个月左右").
_NOT_WHOLE = re.compile(
    r"\d+[.,]\d|\band a half\b|半|(?:^|\s)[-−]\s*\d|\d\s*(?:[-~–—]|to|or|到|至|或)\s*\d"
    r"|(?:about|around|approx\w*|roughly|maybe|大概|大约|约)\s*\d|\d\s*(?:months?|个月|月)?\s*左右",
    re.IGNORECASE,
)


def _number(word: str) -> int | None:
    """'6', 'six', '六', '十二', '两' as a whole number; None if it is not one."""
    word = word.strip().casefold()
    if word.isdigit():
        return int(word)
    if word in _EN_NUMBERS:
        return _EN_NUMBERS[word]
    if word and all(ch in _ZH_DIGITS or ch == "十" for ch in word):
        if "十" in word:
            tens, _, units = word.partition("十")
            return (_ZH_DIGITS.get(tens, 1) if tens else 1) * 10 + (_ZH_DIGITS.get(units, 0) if units else 0)
        if len(word) == 1:
            return _ZH_DIGITS[word]
    return None


def parse_months(text: str, maximum: int) -> int | None:
    """A typed month count ('6', '6 months', '６个月', 'six', '两个月', '1 year', '一年'); None if it
    is no number at all. A number that is not a whole count of months is refused with a hint."""
    # A full stop or an exclamation mark after the answer ("5.", "6个月。") ends a sentence.
    text = unicodedata.normalize("NFKC", text).strip().rstrip(".。!！ ")
    months: int | None = _PHRASES.get(fold(text))
    if months is not None:
        pass
    elif (match := _NUMBER.match(text)) is not None:
        months = int(match.group(1))
    elif (match := _YEARS.match(text)) is not None and (years := _number(match.group(1))) is not None:
        months = years * 12
    elif (match := _MONTHS_IN_WORDS.match(text)) is not None:
        months = _number(match.group(1))
    if months is None:
        if _NOT_WHOLE.search(text):
            raise InvalidTypedAnswer("check.months_invalid", max=maximum)
        return None
    if not 1 <= months <= maximum:
        raise InvalidTypedAnswer("check.months_invalid", max=maximum)
    return months


def fold(text: str) -> str:
    """For matching typed answers: case, width, emoji, punctuation and spacing ignored."""
    text = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(ch if unicodedata.category(ch)[0] in "LN" else " " for ch in text)
    return " ".join(kept.split())


@cache
def answer_synonyms() -> dict[str, dict[str, list[str]]]:
    synonyms: dict[str, dict[str, list[str]]] = load_yaml("answer_synonyms.yaml")
    return synonyms


def confirmation_words() -> dict[str, Literal["yes", "no"]]:
    """What people type to say yes or no to a confirmation (/forget, deleting a code's record):
    word -> "yes" | "no"."""
    words = answer_synonyms()["confirm"]
    answers: tuple[Literal["yes", "no"], ...] = ("yes", "no")
    return {str(word): answer for answer in answers for word in words[answer]}
