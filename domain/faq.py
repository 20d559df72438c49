"""Matching a typed question against the FAQ: word forms and typos, not exact phrases.

A patient types «как отменить запесь» or «отмена записей к врачу» where the
dialogue expects no text; the FAQ's entries (question, keywords, answer — the
texts come from the message catalogues, in the patient's language) are
indexed here by word stems (Snowball: «записаться», «записи», «запись» →
«запис»), and each stem of the question is looked up in that vocabulary with
rapidfuzz's edit-distance ratio, so a typo in one letter still finds its stem.
An entry's score is the sum of the matched stems' weights (rare stems weigh
more: IDF), each scaled by how close the match was; the question's own words
count more than the answer's. Pure: no I/O, no clock, no aiogram.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported with the first FAQ question: ~5 MiB most updates never need
    import snowballstemmer

# Words that say nothing about the topic (they are in almost every question).
STOPWORDS = frozenset(
    [
        "а",
        "без",
        "бот",
        "бота",
        "боте",
        "будет",
        "бы",
        "в",
        "вам",
        "вас",
        "ваш",
        "ваше",
        "вы",
        "где",
        "да",
        "для",
        "до",
        "же",
        "за",
        "и",
        "из",
        "или",
        "им",
        "как",
        "какая",
        "какие",
        "каким",
        "какой",
        "когда",
        "кто",
        "ли",
        "мне",
        "меня",
        "мною",
        "мой",
        "моё",
        "моя",
        "мои",
        "мы",
        "на",
        "над",
        "не",
        "нет",
        "ни",
        "но",
        "ну",
        "о",
        "об",
        "от",
        "по",
        "под",
        "почему",
        "пожалуйста",
        "при",
        "про",
        "с",
        "со",
        "так",
        "там",
        "то",
        "тогда",
        "только",
        "у",
        "уже",
        "хочу",
        "хотел",
        "хотела",
        "хотим",
        "чем",
        "что",
        "чтобы",
        "это",
        "этот",
        "эта",
        "я",
        "можно",
        "надо",
        "нужно",
        "нельзя",
        "есть",
        "был",
        "была",
        "было",
        "ещё",
        "еще",
        "вот",
        "всё",
        "все",
        "подскажите",
        "скажите",
        "здравствуйте",
        "добрый",
        "день",
        "спасибо",
        "привет",
        "мне-то",
        "a",
        "an",
        "and",
        "are",
        "be",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "if",
        "in",
        "is",
        "it",
        "me",
        "my",
        "of",
        "on",
        "or",
        "please",
        "the",
        "there",
        "to",
        "what",
        "when",
        "where",
        "which",
        "why",
        "will",
        "with",
        "you",
        "your",
        "hello",
        "hi",
        "thanks",
    ]
)
_WORD = re.compile(r"[a-zа-я0-9]+")
FUZZY_CUTOFF = 80.0  # rapidfuzz ratio (0–100) for a stem to count as the same word
SHORT = 3  # stems this short must match exactly (a ratio over 3 letters means little)
QUESTION_WEIGHT = 1.0  # question and keywords
ANSWER_WEIGHT = 0.35  # the answer's words help, but less


@lru_cache(maxsize=2)
def _stemmer(language: str) -> snowballstemmer.stemmer:
    import snowballstemmer  # imports every language's stemmer: see the imports

    return snowballstemmer.stemmer("russian" if language == "ru" else "english")


def words(text: str) -> list[str]:
    """Lower-cased words, «ё» as «е», without stop words."""
    found = _WORD.findall(text.lower().replace("ё", "е"))
    return [w for w in found if w not in STOPWORDS and len(w) > 1]


def stems(text: str, language: str = "ru") -> list[str]:
    """Stems of both alphabets: a Russian FAQ still meets «SMS» or «PDF» typed in Latin."""
    ws = words(text)
    ru = _stemmer("ru")
    en = _stemmer("en")
    return [(ru if re.match("[а-я]", w) else en).stemWord(w) for w in ws]


@dataclass(frozen=True, slots=True)
class Entry:
    """One FAQ entry as the matcher sees it: its id and its texts (already translated)."""

    id: str
    question: str
    keywords: str
    answer: str


@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    score: float


@dataclass
class FaqIndex:
    """Stems → weighted entries; built once per language and reused."""

    language: str
    vocabulary: list[str] = field(default_factory=list)
    postings: dict[str, dict[str, float]] = field(default_factory=dict)  # stem → entry → weight
    idf: dict[str, float] = field(default_factory=dict)

    @classmethod
    def build(cls, entries: Iterable[Entry], language: str = "ru") -> FaqIndex:
        postings: dict[str, dict[str, float]] = defaultdict(dict)
        count = 0
        for entry in entries:
            count += 1
            for text, weight in (
                (entry.question, QUESTION_WEIGHT),
                (entry.keywords, QUESTION_WEIGHT),
                (entry.answer, ANSWER_WEIGHT),
            ):
                for stem in stems(text, language):
                    seen = postings[stem].get(entry.id, 0.0)
                    postings[stem][entry.id] = max(seen, weight)
        idf = {s: math.log(1 + count / len(docs)) for s, docs in postings.items()}
        return cls(language, sorted(postings), dict(postings), idf)

    def _similar(self, stem: str) -> list[tuple[str, float]]:
        """Vocabulary stems close to ``stem`` with their closeness (0–1)."""
        if stem in self.postings and len(stem) <= SHORT:
            return [(stem, 1.0)]
        if len(stem) <= SHORT:
            return []
        from rapidfuzz import fuzz, process  # see the imports

        found = process.extract(
            stem, self.vocabulary, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=4
        )
        close = [(v, score / 100) for v, score, _ in found if len(v) > SHORT]
        if stem in self.postings and not any(v == stem for v, _ in close):
            close.append((stem, 1.0))
        return close

    def match(self, question: str, limit: int = 3, threshold: float = 1.0) -> list[Hit]:
        """The best ``limit`` entries scoring at least ``threshold``, best first.

        The threshold is in IDF units: one rare, exactly matched question word
        (≈ log(1 + N)) passes it, a single common word from an answer does not,
        so «привет» or «ывапр» finds nothing and goes on to the menu's reply.
        """
        scores: dict[str, float] = defaultdict(float)
        for stem in dict.fromkeys(stems(question, self.language)):  # each word once
            best: dict[str, float] = {}
            for vocab, closeness in self._similar(stem):
                for entry_id, weight in self.postings[vocab].items():
                    value = closeness * weight * self.idf[vocab]
                    best[entry_id] = max(best.get(entry_id, 0.0), value)
            for entry_id, value in best.items():
                scores[entry_id] += value
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        return [Hit(i, s) for i, s in ranked[:limit] if s >= threshold]


def top_ids(hits: Sequence[Hit]) -> list[str]:
    return [h.id for h in hits]
