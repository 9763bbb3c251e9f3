"""FAQ retrieval: bilingual questions in, the best entry (or an honest "I don't know") out.

Ranking is BM25 (rank-bm25) over the entries' question variants, tokenised with jieba for
Chinese and words for English, each enriched with cross-language concept tokens from the
glossary. Confidence is the share of the question's information (idf-weighted tokens) that the
best entry covers: an off-topic question shares little with any entry and is declined, and so is
one that names no filing matter (a product's name alone: "my ECS server keeps rebooting") unless
one entry's questions alone hold all of it ("需要什么材料"), and one that names a matter the sources
do not cover ("I have no Chinese ID, can I file?"). An entry whose own topic the question does not
name ranks lower. A question in several parts ("how long does the review take? and is there an SMS
deadline") is answered part by part.
Built once per process on first use; a question then costs well under a millisecond.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import cache
from math import log
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when the index is built: they cost start-up time otherwise
    from rank_bm25 import BM25Okapi

from knowledge.data import load_yaml
from knowledge.domain import Language
from knowledge.statements import Source

# Measured on tests/faq_eval.yaml: right answers score 0.38-1.0; off-topic questions fail the anchor test
# or, the few that pass it ("公司社保备案", "filing my tax return"), score 0.32 at most.
CONFIDENCE_THRESHOLD = 0.35
ALTERNATIVES = 3
CANDIDATES = 8  # BM25's best entries, re-ranked by coverage
ANSWER_WEIGHT = 0.5  # an answer's words count half as much as a question variant's
TOPIC_WEIGHT = 0.15  # how much naming an entry's own topic (its signature concepts) counts in the ranking
MAX_PARTS = 3  # a question in several parts: at most this many answers
_CJK = re.compile(r"[\u3400-\u9fff]")
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_EN_WORD = re.compile(r"[a-z0-9]+(?:[.-][a-z0-9]+)*")
_NOT = re.compile(r"n't\b")  # "isn't" -> "is not" ("can't", "won't": replaced before)
_CLITIC = re.compile(r"'(?:s|re|ve|ll|d|m)\b")  # "partner's" -> "partner", "what's" -> "what"

# The joins of a question in several parts: the end of a sentence or question, a new clause that
# begins with "also" or "and" + a question word, a Chinese clause that begins with 还有/另外/以及,
# or follows a clause ending in a question particle ("服务号是啥，一台服务器能申请几个"; not
# "...吗，还是...", which offers an alternative). Commas alone do not split: they join a single question.
_EN_ASKING = (
    "what|whats|how|where|when|which|who|why|is|are|was|were|do|does|did|can|could|should|will|would|must|may|shall"
)
_ZH_JOINS = "还有|另外|以及|此外|顺便问一下|顺便问下|顺便|再问一下|再问下"
_SPLIT = re.compile(
    r"[?？!！;；。]+"
    r"|\.\s+"
    r"|(?:,|\band)\s+also\b"
    rf"|,?\s+and\s+(?=(?:{_EN_ASKING})\b)"
    rf"|[，,、]\s*(?={_ZH_JOINS})"
    r"|(?<=[吗呢啥么不没])[，,]\s*(?!还是)"
)
# A question, as opposed to a statement: an English clause that opens with a question word, or
# Chinese with a question word or particle.
_ASKS = re.compile(
    rf"(?:^|[,，]\s*)(?:{_EN_ASKING}|any|need|have)\b"
    r"|吗|呢|么|啥|什么|怎|如何|多久|多少|几|哪|是否|能否|可否|要不要|能不能|可不可以|会不会|是不是|有没有|咋|嘛"
    r"|算不算|够不够|行不行|不$|没$"
)
_LEAD = re.compile(rf"^(?:(?:(?:also|and|plus|btw|by the way)(?![a-z])|{_ZH_JOINS})[\s,，:：]*)+")


@dataclass(frozen=True)
class FaqEntry:
    id: str
    questions: dict[str, tuple[str, ...]]
    answers: dict[str, str]
    source: Source | None
    public: str | None
    action: str | None

    def answer(self, lang: Language) -> str:
        return self.answers[lang]

    def title(self, lang: Language) -> str:
        return self.questions[lang][0]


@dataclass(frozen=True)
class FaqResult:
    question: str
    language: Language
    entry: FaqEntry | None  # None: below the confidence threshold
    score: float
    alternatives: list[tuple[FaqEntry, float]] = field(default_factory=list)
    more: tuple[FaqResult, ...] = ()  # a question in several parts: the answers to its further parts

    @property
    def matched(self) -> bool:
        return self.entry is not None

    def as_dict(self) -> dict[str, object]:
        return {
            "matched": self.matched,
            "answer": self.entry.answer(self.language) if self.entry else "",
            "topic": self.entry.id if self.entry else None,
            "score": round(self.score, 3),
            "language": self.language,
            "action": self.entry.action if self.entry else None,
            "alternatives": [
                {"topic": e.id, "question": e.title(self.language), "score": round(s, 3)} for e, s in self.alternatives
            ],
            "more": [
                {"part": r.question, "topic": e.id, "answer": e.answer(self.language), "score": round(r.score, 3)}
                for r in self.more
                if (e := r.entry) is not None
            ],
        }


def detect_language(text: str) -> Language:
    return "zh" if _CJK.search(text) else "en"


def _normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'")


def split_parts(question: str) -> list[str]:
    """The parts of a question that asks several things, in order (one part: a single question).
    A statement before a question is its context and stays with it: "got approved!! what now, where do
    I put the number" is one question, "what is a service code? how many do I get" two."""
    text = _normalize(question)
    pieces: list[tuple[str, bool]] = []  # (text, asked: it ends with a question mark)
    start = 0
    for join in _SPLIT.finditer(text):
        pieces.append((text[start : join.start()], "?" in join.group() or "？" in join.group()))
        start = join.end()
    pieces.append((text[start:], False))
    parts: list[str] = []
    context = ""
    for piece, asked in pieces:
        piece = _LEAD.sub("", piece.strip(" ,，、:：")).strip()
        if not piece:
            continue
        if not (asked or _ASKS.search(piece)):  # a statement: the context of what follows
            context = f"{context} {piece}".strip()
            continue
        parts.append(f"{context} {piece}".strip() if context else piece)
        context = ""
    if context:  # a statement at the end belongs to the question before it
        if parts:
            parts[-1] = f"{parts[-1]} {context}"
        else:
            parts.append(context)
    return parts


class Tokenizer:
    def __init__(
        self,
        glossary: dict[str, list[str]],
        stopwords: dict[str, list[str]],
        overrides: dict[str, list[str]] | None = None,
    ) -> None:
        import jieba

        self.jieba = jieba
        self.en_stop = frozenset(stopwords["en"])
        self.zh_stop = frozenset(stopwords["zh"])
        self.overrides = overrides or {}
        self.words_of: dict[str, set[str]] = {}  # a concept's one-word forms
        self.en_forms: dict[str, list[tuple[re.Pattern[str], str]]] = {}  # by the form's first word
        self.zh_forms: list[tuple[str, str]] = []
        self.en_words: set[str] = set()  # one-word English forms: real words, never "typos" to repair
        self.zh_words: set[str] = set()  # Chinese forms, each one word for jieba
        for concept, forms in glossary.items():
            for form in forms:
                form = _normalize(form)
                if _CJK.search(form):
                    self.zh_forms.append((form, concept))
                    self.jieba.add_word(form.replace(" ", ""))
                    self.zh_words.add(form.replace(" ", ""))
                    self.words_of.setdefault(concept, set()).add(form.replace(" ", ""))
                else:
                    pattern = re.compile(rf"(?<![a-z0-9-]){re.escape(form)}(?![a-z0-9-])")
                    self.en_forms.setdefault(_EN_WORD.findall(form)[0], []).append((pattern, concept))
                    if _EN_WORD.fullmatch(form):
                        self.en_words.add(form)
                        self.words_of.setdefault(concept, set()).add(form)

    def tokens(self, text: str) -> list[str]:
        text = _normalize(text)
        out: list[str] = []
        words = _CLITIC.sub("", _NOT.sub(" not", text.replace("can't", "can not").replace("won't", "will not")))
        for word in _EN_WORD.findall(words):
            word = word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word
            if word not in self.en_stop:
                out.append(word)
        for run in _CJK_RUN.findall(text):
            out += [w for w in self.jieba.lcut(run) if w.strip() and w not in self.zh_stop]
        squeezed = text.replace(" ", "")
        concepts = {c for w in set(_EN_WORD.findall(text)) for p, c in self.en_forms.get(w, ()) if p.search(text)}
        concepts |= {c for form, c in self.zh_forms if form.replace(" ", "") in squeezed}
        for concept in [c for c in concepts if c in self.overrides]:  # "my own account", of a friend's server
            for ruled_out in self.overrides[concept]:
                concepts.discard(ruled_out)
                out = [w for w in out if w not in self.words_of.get(ruled_out, ())]
        return out + [f"#{c}" for c in sorted(concepts)]


class FaqIndex:
    def __init__(self, entries: list[FaqEntry], glossary: dict[str, list[str]], terms: dict[str, Any]) -> None:
        self.entries = entries
        self.tokenizer = Tokenizer(glossary, terms["stopwords"], terms.get("overrides"))
        self.anchors = frozenset(f"#{concept}" for concept in terms["anchors"])
        self.pairs = {f"#{c}": frozenset(f"#{p}" for p in partners) for c, partners in terms["anchor_pairs"].items()}
        self.products = frozenset(f"#{concept}" for concept in terms["products"])
        self.alone = frozenset(f"#{c}" for c in terms.get("alone", ()))  # ours without an anchor when unambiguous
        self.uncovered = frozenset(f"#{c}" for c in terms.get("uncovered", ()))  # the sources do not say: declined
        # worth ranking: related topics at least
        self.relevant = self.anchors | self.products | self.pairs.keys() | self.alone
        self.owner: list[int] = []
        docs: list[list[str]] = []
        self.vocab_by_entry: list[set[str]] = []
        self.answer_vocab: list[set[str]] = []
        concepts_by_entry: list[Counter[str]] = []
        owners_of_words: dict[frozenset[str], set[int]] = {}
        for i, entry in enumerate(entries):
            vocab: set[str] = set()
            concepts: Counter[str] = Counter()
            for lang in ("en", "zh"):
                for q in entry.questions[lang]:
                    toks = self.tokenizer.tokens(q)
                    owners_of_words.setdefault(frozenset(toks), set()).add(i)
                    docs.append(toks)
                    self.owner.append(i)
                    vocab |= set(toks)
                    concepts.update({t for t in toks if t.startswith("#")})
            self.vocab_by_entry.append(vocab)
            concepts_by_entry.append(concepts)
            answer = set(self.tokenizer.tokens(entry.answers["en"])) | set(self.tokenizer.tokens(entry.answers["zh"]))
            self.answer_vocab.append(answer - vocab)
        # A question in the words of one entry's own variant is that entry's, whatever the ranking
        # says: the variant was written for it ("How do I file my website?" names no anchor). Words
        # that two entries' variants share are left to the ranking.
        self.variant_words = {words: next(iter(own)) for words, own in owners_of_words.items() if len(own) == 1}
        from rank_bm25 import BM25Okapi

        self.bm25 = BM25Okapi(docs)
        self.postings = _postings(self.bm25, docs)
        df = Counter(t for vocab in self.vocab_by_entry for t in vocab)
        n = len(entries)
        self.idf = {t: log(1 + n / c) for t, c in df.items()}
        self.unknown_idf = log(1 + n)
        self.english_vocab = sorted(t for t in df if not t.startswith("#") and not _CJK.search(t) and len(t) > 3)
        self.synonyms = frozenset(self.tokenizer.en_words | self.tokenizer.zh_words)
        self.known = frozenset(df).union(*self.answer_vocab)  # the words of the FAQ's questions and answers
        self.zh_form = re.compile("|".join(map(re.escape, sorted(self.tokenizer.zh_words, key=len, reverse=True))))
        # An entry's topic: the concepts most of its variants name and at most one other entry's do ("SLB"
        # for the SLB entry; not "ICP filing"), a shared one counting half. An entry whose topic the question
        # does not name ranks lower: "we put our site behind the CDN" is about CDN, not about SLB's "behind".
        frequent = [
            {c for c, k in concepts.items() if k * 2 >= sum(len(entries[i].questions[lang]) for lang in ("en", "zh"))}
            for i, concepts in enumerate(concepts_by_entry)
        ]
        owners = Counter(c for concepts in frequent for c in concepts)
        self.topics = [{c: self.idf[c] / owners[c] for c in concepts if owners[c] <= 2} for concepts in frequent]

    def _repair(self, tokens: list[str]) -> list[str]:
        """Map misspelt English words to the nearest known word ('serivce' -> 'service'). A synonym that
        no entry uses ("complimentary", "服务号"), or a Chinese word that holds one ("一个月": "个月"), is
        left to its concept, which the entries do know."""
        fixed = []
        for tok in tokens:
            if tok not in self.idf and (tok in self.synonyms or self.zh_form.search(tok)):
                continue
            if tok in self.idf or tok.startswith("#") or len(tok) <= 4 or _CJK.search(tok):
                fixed.append(tok)
                continue
            from rapidfuzz import process
            from rapidfuzz.distance import Levenshtein

            best = process.extractOne(
                tok, self.english_vocab, scorer=Levenshtein.normalized_similarity, score_cutoff=0.8
            )
            fixed.append(best[0] if best else tok)
        return fixed

    def ask(self, question: str, lang: Language | None = None) -> FaqResult:
        """The best entry for the question; for a question in several parts, the first part's entry,
        with the further parts' answers in `more`."""
        language = lang or detect_language(question)
        tokens = self._repair(self.tokenizer.tokens(question))  # the whole question's, read once
        variant = self.variant_words.get(frozenset(tokens))
        if variant is not None:
            entry = self.entries[variant]
            ranked = self._ask_one(question, language, tokens=tokens)
            others = ([(ranked.entry, ranked.score)] if ranked.entry else []) + ranked.alternatives
            related = [(e, score) for e, score in others if e is not entry][:ALTERNATIVES]
            return FaqResult(question, language, entry, 1.0, related)
        parts = self.parts(question)
        if len(parts) > 1:  # each part on its own, in the context of the whole question
            about_filing = self.about_filing(tokens)
            found: list[FaqResult] = []
            for result in (self._ask_one(p, language, about_filing) for p in parts):
                if result.entry is not None and result.entry.id not in {r.entry.id for r in found if r.entry}:
                    found.append(result)
            if found:
                return replace(found[0], question=question, more=tuple(found[1:MAX_PARTS]))
        return self._ask_one(question, language, tokens=tokens)

    def parts(self, question: str) -> list[str]:
        """The question's parts; a part with nothing to ask on its own ("what is it for") joins its neighbour."""
        parts: list[str] = []
        pending = ""
        for part in split_parts(question):
            if pending:
                part = f"{pending} {part}"
                pending = ""
            tokens = self.tokenizer.tokens(part)
            if not any(t.startswith("#") for t in tokens) and len(tokens) < 2:
                if parts:
                    parts[-1] = f"{parts[-1]} {part}"
                else:
                    pending = part
                continue
            parts.append(part)
        if pending:
            parts.append(pending)
        return parts

    def about_filing(self, tokens: list[str]) -> bool:
        """Whether the question names a filing matter: an anchor, or two concepts that together make one
        ("my instance fails the requirements"). A product's name alone does not ("my ECS keeps rebooting")."""
        found = {t for t in tokens if t.startswith("#")}
        return bool(self.anchors & found) or any(self.pairs[c] & found for c in found if c in self.pairs)

    def _ask_one(
        self, question: str, language: Language, in_filing_question: bool = False, tokens: list[str] | None = None
    ) -> FaqResult:
        """One question. `in_filing_question`: it is a part of a question about filing, whose matter it
        may leave unsaid ("SLB能备案吗，ACK呢"), if it says nothing the FAQ does not know: "审核要多久？
        另外服务器被黑了怎么办" asks the second part on its own, and it is declined. `tokens`: the
        question's, when the caller has read them already."""
        if tokens is None:
            tokens = self._repair(self.tokenizer.tokens(question))
        about_filing = self.about_filing(tokens) or (
            in_filing_question and all(t in self.known for t in tokens if not t.startswith("#"))
        )
        if not about_filing and not self.relevant.intersection(tokens):
            return FaqResult(question, language, None, 0.0)
        scores: dict[int, float] = {}
        for token in tokens:  # BM25Okapi.get_scores, touching only the documents that hold the word
            for doc, weight in self.postings.get(token, ()):
                scores[doc] = scores.get(doc, 0.0) + weight
        best: dict[int, float] = {}
        for doc, score in scores.items():
            entry = self.owner[doc]
            if score > best.get(entry, 0.0):
                best[entry] = score
        candidates = sorted(best.items(), key=lambda kv: kv[1], reverse=True)[:CANDIDATES]
        if not candidates:
            return FaqResult(question, language, None, 0.0)
        top_bm25 = candidates[0][1]
        # Coverage decides; an entry whose own topic the question does not name ranks lower; BM25
        # (which rewards rarer shared words) breaks near-ties.
        found = set(tokens)
        scored = []
        for i, bm25 in candidates:
            cov = self.coverage(tokens, i)
            scored.append((cov + 0.1 * bm25 / top_bm25 - TOPIC_WEIGHT * self.off_topic(found, i), i, cov))
        scored.sort(key=lambda x: x[0], reverse=True)
        results = [(self.entries[i], cov) for _, i, cov in scored]
        top, confidence = results[0]
        if not about_filing and self.alone & found and _ASKS.search(_normalize(question)):  # not a word alone
            about_filing = self.only_words_of_one_entry(results)
        # A matter the sources do not speak of ("I have no Chinese ID, can I file?") is declined, whatever
        # else the question shares with an entry: the entries it shares most with are its related topics.
        if confidence < CONFIDENCE_THRESHOLD or not about_filing or self.uncovered & found:
            return FaqResult(question, language, None, confidence, results[:ALTERNATIVES])
        return FaqResult(question, language, top, confidence, results[1 : ALTERNATIVES + 1])

    @staticmethod
    def only_words_of_one_entry(results: list[tuple[FaqEntry, float]]) -> bool:
        """Whether the questions of one entry, and of no other, hold every word of the question: then a
        concept of `alone` makes it ours without an anchor ("需要什么材料", "what documents do I need");
        with a word no entry knows ("办护照需要什么材料") it does not."""
        return [cov >= 1.0 - 1e-9 for _, cov in results].count(True) == 1 and results[0][1] >= 1.0 - 1e-9

    def off_topic(self, found: set[str], entry: int) -> float:
        """How far the question is from naming the entry's topic: 0 when it names the topic's weightiest
        concept, 1 when it names none of it."""
        topic = self.topics[entry]
        if not topic:
            return 0.0
        return 1.0 - max((w for c, w in topic.items() if c in found), default=0.0) / max(topic.values())

    def coverage(self, tokens: list[str], entry: int) -> float:
        """The idf-weighted share of the question's tokens that the entry knows."""
        vocab, answer = self.vocab_by_entry[entry], self.answer_vocab[entry]
        total = sum(self.idf.get(t, self.unknown_idf) for t in tokens)
        hit = sum(
            self.idf.get(t, self.unknown_idf) * (1.0 if t in vocab else ANSWER_WEIGHT)
            for t in tokens
            if t in vocab or t in answer
        )
        return hit / total if total else 0.0

    def get(self, entry_id: str) -> FaqEntry | None:
        return next((e for e in self.entries if e.id == entry_id), None)


def _postings(bm25: BM25Okapi, docs: list[list[str]]) -> dict[str, list[tuple[int, float]]]:
    """Each word's BM25 weight in each document that holds it, from rank-bm25's own idf and length
    statistics: a query's score is then the sum over its words, as in get_scores."""
    postings: dict[str, list[tuple[int, float]]] = {}
    for doc, (freqs, length) in enumerate(zip(bm25.doc_freqs, bm25.doc_len, strict=True)):
        norm = bm25.k1 * (1 - bm25.b + bm25.b * length / bm25.avgdl)
        for word, tf in freqs.items():
            weight = bm25.idf.get(word, 0.0) * tf * (bm25.k1 + 1) / (tf + norm)
            postings.setdefault(word, []).append((doc, weight))
    assert len(docs) == len(bm25.doc_len)
    return postings


def load_entries() -> list[FaqEntry]:
    raw = load_yaml("faq.yaml")
    return [
        FaqEntry(
            id=e["id"],
            questions={lang: tuple(e["q"][lang]) for lang in ("en", "zh")},
            answers={lang: e["a"][lang] for lang in ("en", "zh")},
            source=Source(**e["source"]) if e.get("source") else None,
            public=e.get("public"),
            action=e.get("action"),
        )
        for e in raw
    ]


_BUILD_LOCK = threading.Lock()


def faq_index() -> FaqIndex:
    """The process's index, built on first use (thread-safe: start-up builds it in the background)."""
    with _BUILD_LOCK:
        return _build_index()


def faq_index_built() -> bool:
    """Whether `faq_index()` returns at once (building takes about a second of CPU)."""
    return _build_index.cache_info().currsize > 0


@cache
def _build_index() -> FaqIndex:
    import jieba

    jieba.setLogLevel(logging.WARNING)  # jieba announces its dictionary load at INFO
    glossary = load_yaml("glossary.yaml")
    terms = load_yaml("faq_terms.yaml")
    return FaqIndex(load_entries(), glossary, terms)
