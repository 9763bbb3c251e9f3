"""FAQ retrieval: bilingual questions in, the best entry (or an honest "I don't know") out.

Ranking is BM25 (rank-bm25) over the entries' question variants, tokenised with jieba for
Chinese and words for English, each enriched with cross-language concept tokens from the
glossary. Confidence is the share of the question's information (idf-weighted tokens) that the
best entry covers: an off-topic question shares little with any entry and is declined.
Built once per process on first use; a question then costs well under a millisecond.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from math import log
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when the index is built: they cost start-up time otherwise
    from rank_bm25 import BM25Okapi

from knowledge.data import load_yaml
from knowledge.domain import Language
from knowledge.statements import Source

# Measured on tests/faq_eval.yaml: right answers score 0.35-1.0; off-topic questions fail the anchor test.
CONFIDENCE_THRESHOLD = 0.35
ALTERNATIVES = 3
CANDIDATES = 8  # BM25's best entries, re-ranked by coverage
ANSWER_WEIGHT = 0.5  # an answer's words count half as much as a question variant's
_CJK = re.compile(r"[\u3400-\u9fff]")
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_EN_WORD = re.compile(r"[a-z0-9]+(?:[.-][a-z0-9]+)*")


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
        }


def detect_language(text: str) -> Language:
    return "zh" if _CJK.search(text) else "en"


def _normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


class Tokenizer:
    def __init__(self, glossary: dict[str, list[str]], stopwords: dict[str, list[str]]) -> None:
        import jieba

        self.jieba = jieba
        self.en_stop = frozenset(stopwords["en"])
        self.zh_stop = frozenset(stopwords["zh"])
        self.en_forms: list[tuple[re.Pattern[str], str]] = []
        self.zh_forms: list[tuple[str, str]] = []
        for concept, forms in glossary.items():
            for form in forms:
                form = _normalize(form)
                if _CJK.search(form):
                    self.zh_forms.append((form, concept))
                    self.jieba.add_word(form.replace(" ", ""))
                else:
                    self.en_forms.append((re.compile(rf"(?<![a-z0-9]){re.escape(form)}(?![a-z0-9])"), concept))

    def tokens(self, text: str) -> list[str]:
        text = _normalize(text)
        out: list[str] = []
        for word in _EN_WORD.findall(text):
            if word not in self.en_stop:
                out.append(word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word)
        for run in _CJK_RUN.findall(text):
            out += [w for w in self.jieba.lcut(run) if w.strip() and w not in self.zh_stop]
        squeezed = text.replace(" ", "")
        concepts = {c for pattern, c in self.en_forms if pattern.search(text)}
        concepts |= {c for form, c in self.zh_forms if form.replace(" ", "") in squeezed}
        return out + [f"#{c}" for c in sorted(concepts)]


class FaqIndex:
    def __init__(self, entries: list[FaqEntry], glossary: dict[str, list[str]], terms: dict[str, Any]) -> None:
        self.entries = entries
        self.tokenizer = Tokenizer(glossary, terms["stopwords"])
        self.anchors = frozenset(f"#{concept}" for concept in terms["anchors"])
        self.owner: list[int] = []
        docs: list[list[str]] = []
        self.vocab_by_entry: list[set[str]] = []
        self.answer_vocab: list[set[str]] = []
        for i, entry in enumerate(entries):
            vocab: set[str] = set()
            for lang in ("en", "zh"):
                for q in entry.questions[lang]:
                    toks = self.tokenizer.tokens(q)
                    docs.append(toks)
                    self.owner.append(i)
                    vocab |= set(toks)
            self.vocab_by_entry.append(vocab)
            answer = set(self.tokenizer.tokens(entry.answers["en"])) | set(self.tokenizer.tokens(entry.answers["zh"]))
            self.answer_vocab.append(answer - vocab)
        from rank_bm25 import BM25Okapi

        self.bm25 = BM25Okapi(docs)
        self.postings = _postings(self.bm25, docs)
        df = Counter(t for vocab in self.vocab_by_entry for t in vocab)
        n = len(entries)
        self.idf = {t: log(1 + n / c) for t, c in df.items()}
        self.unknown_idf = log(1 + n)
        self.english_vocab = sorted(t for t in df if not t.startswith("#") and not _CJK.search(t) and len(t) > 3)

    def _repair(self, tokens: list[str]) -> list[str]:
        """Map misspelt English words to the nearest known word ('serivce' -> 'service')."""
        fixed = []
        for tok in tokens:
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
        language = lang or detect_language(question)
        tokens = self._repair(self.tokenizer.tokens(question))
        if not self.anchors.intersection(tokens):
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
        # Coverage decides; BM25 (which rewards rarer shared words) breaks near-ties.
        scored = [(i, self.coverage(tokens, i), bm25 / top_bm25) for i, bm25 in candidates]
        scored.sort(key=lambda x: x[1] + 0.1 * x[2], reverse=True)
        results = [(self.entries[i], cov) for i, cov, _ in scored]
        top, confidence = results[0]
        if confidence < CONFIDENCE_THRESHOLD:
            return FaqResult(question, language, None, confidence, results[:ALTERNATIVES])
        return FaqResult(question, language, top, confidence, results[1 : ALTERNATIVES + 1])

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
