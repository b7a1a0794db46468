"""How the FAQ is searched: what a customer typed, against every entry of their locale.

`Faq.search` takes what a customer typed and returns the best entries in their locale.
Text is compared as accent- and case-free word tokens (NFKD, combining marks dropped,
casefolded), so "vantar pa" finds "väntar på". A token matches a known word exactly, as a
short inflection of it ("ordern", "lösenordet" against "order", "lösenord"; Indonesian
clitics and prefixes: "otpnya", "dikirim", "menghubungi", "masuk2"), or, if it is not a
known word itself, as a typo (difflib ratio of at least 0.8, both words four letters or
longer, same first letter). Stopwords of all three languages are ignored, because
customers mix them freely.

Each key is scored in the user's locale against its title, its keywords in *all* locales
(the keys are shared, so an English or Swedish keyword typed by an Indonesian customer still
counts) and, with a much smaller weight, its answer. A one-word keyword counts fully; a
word of a longer keyword or of the title counts about half, and the whole phrase ("belum
masuk", "inte fått") earns a bonus when all of its words are present. Words that appear in
many entries weigh less than words that single one entry out (inverse document frequency).
Entries under a minimum score are dropped, so greetings, small talk and gibberish return
nothing; so are entries far behind the best one.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from bot.domain.faq import FaqEntry

_TOKEN_RE: Final = re.compile(r"[^\W_]+")
_TAG_RE: Final = re.compile(r"<[^>]*>")
_ENTITY_RE: Final = re.compile(r"&(?:amp|lt|gt|quot);")
_PLACEHOLDER_RE: Final = re.compile(r"\{[a-z_]+\}")

# Words that say nothing about the question. One set for all locales: customers mix
# languages, and none of these is a meaningful word in another of the three.
_STOPWORDS: Final = frozenset(
    """
    a an the is are am was were be been being do does did done have has had having
    i me my mine we our us you your yours he she it its they them their this that these
    those there here of to in on at by for from with about as into onto over under
    and or but if so than then too very just also only not no yes
    don dont doesn doesnt didn didnt isn isnt wasn wasnt won wont can cant couldn
    haven havent hasn hasnt aren arent im ive ll ve re
    can could would should will shall may might must please pls plz
    what which who whom whose when where why how
    hi hello hey hiya thanks thank thx ty ok okay good morning afternoon evening
    saya aku gue gw gua sy kami kita anda kamu lo lu dia mereka
    yang di ke dari dan atau tapi tetapi dengan untuk pada dalam ini itu tsb
    ada adalah apa apakah bagaimana gimana gmn kenapa knp mengapa kapan dimana mana
    siapa berapa bisa bisakah dapat mau ingin akan sudah udah sdh udh telah sedang lagi
    masih juga saja aja sih dong deh kok ya yah nih tuh kah lah pun nya
    tidak tak gak ga nggak ngga enggak engga ndak
    yg tp msh dgn utk krn jd bgt banget trus terus padahal tadi dr sm kalo kalau
    tolong mohon min gan kak mas mbak bang pak bu
    halo hai hallo selamat pagi siang sore malam terima kasih makasih trims
    jag mig mitt min mina du dig din ditt dina vi oss vår vårt våra ni er han hon den
    det de dem dom är var vara varit blir bli har hade ha och eller men att som om
    på i av för med till från hos ur vid åt en ett inte ej kan ska skulle vill måste
    hur vad vem vilken vilket vilka varför när var där här så nu då bara också
    sig sin sitt sina era ert någon något några
    hej hejsan tjena hallå tack god morgon kväll
    """.split()
)

# Indonesian clitics and prefixes, also tried (with a lower weight) for every word:
# "otpnya" -> "otp", "dikirim" -> "kirim", "menghubungi" -> "hubungi", "membayar" ->
# "bayar"; and a doubled word in its short form, "masuk2" -> "masuk".
_ID_SUFFIXES: Final = ("nya", "lah", "kah", "ku", "mu")
_ID_PREFIXES: Final = ("di", "ter", "ber", "meng", "mem", "men")

_FUZZY_MIN_LEN: Final = 4
_FUZZY_RATIO: Final = 0.8
_PREFIX_SIM: Final = 0.9
_VARIANT_FACTOR: Final = 0.9
_ANSWER_WEIGHT: Final = 0.25
_PART_WEIGHT: Final = 0.55
_PHRASE_BONUS: Final = 1.0
_MIN_SCORE: Final = 1.5
_RELATIVE_CUTOFF: Final = 0.35
_MAX_QUERY_TOKENS: Final = 40
_CACHE_LIMIT: Final = 4096


def normalize(text: str) -> str:
    """Casefolded text without accents: "Väntar PÅ" -> "vantar pa"."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.casefold()


_NORM_STOPWORDS: Final = frozenset(normalize(word) for word in _STOPWORDS)

# Greetings in the three languages (normalized: "hallå" is "halla"), as word sequences,
# and the words that may stand beside them ("halo kak", "hi there", "hej allihop").
# A message of nothing else is a greeting and gets the welcome and the main menu.
_GREETINGS: Final = tuple(
    sorted(
        (
            tuple(normalize(phrase).split())
            for phrase in """
            hello, hi, hey, hiya, howdy, greetings, good morning, good afternoon,
            good evening, good day, how are you,
            halo, hallo, helo, hai, selamat pagi, selamat siang, selamat sore, selamat malam,
            pagi, siang, sore, malam, permisi, assalamualaikum, salam, apa kabar,
            hej, hejsan, hallå, tjena, tjenare, tja, god morgon, god middag, god kväll,
            god dag, goddag, morrn, hur mår du, läget
            """.split(",")
            if phrase.strip()
        ),
        key=len,
        reverse=True,  # the longest first: "good morning" before a lone "good"
    )
)
_GREETING_COMPANIONS: Final = frozenset(
    normalize(word)
    for word in (
        "there all everyone everybody team folks guys support sir madam bot and "
        "kak kakak min admin gan agan sis bro pak bu mas mbak bang semua semuanya cs tim "
        "dan ya "
        "du där alla allihop allihopa ni er och"
    ).split()
)
_GREETING_MAX_TOKENS: Final = 8


def _strip_greeting(tokens: list[str]) -> list[str] | None:
    """`tokens` without a leading greeting phrase, or None if they don't start with one."""
    for phrase in _GREETINGS:
        if tuple(tokens[: len(phrase)]) == phrase:
            return tokens[len(phrase) :]
    return None


def is_greeting(text: str) -> bool:
    """Whether `text` only greets ("halo kak", "Selamat pagi!", "hej hej", "good morning").

    A greeting followed by a question ("halo, pulsa saya belum masuk") is not one: the
    question is what the customer wants answered.
    """
    tokens = _TOKEN_RE.findall(normalize(text))
    if not tokens or len(tokens) > _GREETING_MAX_TOKENS:
        return False
    greeted = False
    while tokens:
        rest = _strip_greeting(tokens)
        if rest is not None:
            greeted, tokens = True, rest
        elif tokens[0] in _GREETING_COMPANIONS:
            tokens = tokens[1:]
        else:
            return False
    return greeted


def tokenize(text: str) -> list[str]:
    """Content words of `text`, normalized, stopwords removed, in order (repeats kept)."""
    return [
        tok
        for tok in _TOKEN_RE.findall(normalize(text))
        if tok not in _NORM_STOPWORDS and (len(tok) > 1 or tok.isdigit())
    ]


def _plain(answer: str) -> str:
    """The answer's words without HTML tags, entities and placeholders."""
    return _PLACEHOLDER_RE.sub(" ", _ENTITY_RE.sub(" ", _TAG_RE.sub(" ", answer)))


def _variants(token: str) -> list[str]:
    """Shorter forms of an Indonesian-looking word, tried besides the word itself."""
    found: list[str] = []
    for suffix in _ID_SUFFIXES:
        if token.endswith(suffix) and len(token) - len(suffix) >= 3:
            found.append(token[: -len(suffix)])
    if token[-1] == "2" and token[:-1].isalpha():  # "masuk2": a doubled word, short form
        found.append(token[:-1])
    for prefix in _ID_PREFIXES:
        if token.startswith(prefix) and len(token) - len(prefix) >= _FUZZY_MIN_LEN:
            found.append(token[len(prefix) :])
    return found


@dataclass(frozen=True)
class _KeyIndex:
    # Words of the title (user's locale) and keywords (all locales), each with a weight:
    # a one-word keyword counts fully, a word of a longer keyword or of the title partly.
    strong: Mapping[str, float]
    answer: frozenset[str]  # answer words (user's locale)
    # Multi-word keywords (all locales) and the title: each one's words, and the bonus it
    # gives when every one of them is in the query (a set, to check that in one step).
    phrases: tuple[tuple[frozenset[str], float], ...]


@dataclass(frozen=True)
class _LocaleIndex:
    keys: tuple[_KeyIndex, ...]  # in the order of Faq.keys()
    strong_idf: Mapping[str, float]
    answer_idf: Mapping[str, float]


class _Vocabulary:
    """Every indexed word, with a cache of which of them a query word matches."""

    def __init__(self, words: Iterable[str]) -> None:
        self._words = frozenset(words)
        # Inflections and typos both keep the first letter: candidates by (letter, length).
        self._by_start: dict[tuple[str, int], list[str]] = {}
        for word in sorted(self._words):
            self._by_start.setdefault((word[0], len(word)), []).append(word)
        self._cache: dict[str, dict[str, float]] = {}

    def matches(self, token: str) -> dict[str, float]:
        """Known words `token` stands for, each with a similarity in (0, 1]."""
        cached = self._cache.get(token)
        if cached is not None:
            return cached
        found = self._match_one(token)
        for variant in _variants(token):
            for word, sim in self._match_one(variant).items():
                scaled = sim * _VARIANT_FACTOR
                if scaled > found.get(word, 0.0):
                    found[word] = scaled
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[token] = found
        return found

    def _match_one(self, token: str) -> dict[str, float]:
        found: dict[str, float] = {}
        known = token in self._words
        if known:
            found[token] = 1.0
        size = len(token)
        if size < _FUZZY_MIN_LEN:
            return found
        # ratio = 2*M/(a+b) >= 0.8 needs the shorter word to be at least 2/3 of the longer.
        low = max(_FUZZY_MIN_LEN, math.ceil(size * 2 / 3))
        high = math.floor(size * 3 / 2)
        matcher = SequenceMatcher(autojunk=False)
        matcher.set_seq2(token)
        for length in range(low, high + 1):
            for word in self._by_start.get((token[0], length), ()):
                if word == token:
                    continue
                # An inflection: "ordern" ~ "order", "lösenordet" ~ "lösenord".
                shorter, longer = (word, token) if length < size else (token, word)
                if longer.startswith(shorter) and len(longer) - len(shorter) <= 4:
                    found[word] = _PREFIX_SIM
                    continue
                # A typo, only for a word we do not know as it is ("pending" is not a
                # misspelt "opening"), and one or two letters off at most.
                if known or abs(length - size) > max(1, size // 4):
                    continue
                matcher.set_seq1(word)
                if (
                    matcher.real_quick_ratio() >= _FUZZY_RATIO
                    and matcher.quick_ratio() >= _FUZZY_RATIO
                ):
                    ratio = matcher.ratio()
                    if ratio >= _FUZZY_RATIO:
                        found[word] = ratio * 0.95  # a typo never beats the exact word
        return found


def _idf(sets: Sequence[frozenset[str]]) -> dict[str, float]:
    counts: dict[str, int] = {}
    for words in sets:
        for word in words:
            counts[word] = counts.get(word, 0) + 1
    total = len(sets)
    return {word: math.log(1 + total / count) for word, count in counts.items()}


class SearchIndex:
    """Every locale's index of the entries, and the scoring of a query against it."""

    def __init__(
        self, key_order: Sequence[str], entries: Mapping[str, Mapping[str, FaqEntry]]
    ) -> None:
        shared_words: dict[str, dict[str, float]] = {key: {} for key in key_order}
        shared_phrases: dict[str, set[tuple[str, ...]]] = {key: set() for key in key_order}
        for by_key in entries.values():
            for key, entry in by_key.items():
                for keyword in entry.keywords:
                    words = tuple(dict.fromkeys(tokenize(keyword)))
                    weight = 1.0 if len(words) == 1 else _PART_WEIGHT
                    _raise_weights(shared_words[key], words, weight)
                    if len(words) > 1:
                        shared_phrases[key].add(words)
        vocabulary: set[str] = set()
        self._index: dict[str, _LocaleIndex] = {}
        for locale, by_key in entries.items():
            keys = []
            for key in key_order:
                entry = by_key[key]
                strong = dict(shared_words[key])
                title = tuple(dict.fromkeys(tokenize(entry.title)))
                _raise_weights(strong, title, _PART_WEIGHT)
                phrases = set(shared_phrases[key])
                if len(title) > 1:
                    phrases.add(title)
                answer = frozenset(tokenize(_plain(entry.answer)))
                bonuses = tuple(
                    (frozenset(phrase), _PHRASE_BONUS * (len(phrase) - 1))
                    for phrase in sorted(phrases)
                )
                keys.append(_KeyIndex(strong, answer, bonuses))
                vocabulary.update(strong, answer)
            self._index[locale] = _LocaleIndex(
                keys=tuple(keys),
                strong_idf=_idf([frozenset(k.strong) for k in keys]),
                answer_idf=_idf([k.answer for k in keys]),
            )
        self._vocabulary = _Vocabulary(vocabulary)

    def best(self, locale: str, text: str, limit: int) -> list[int]:
        """Positions (in the order of Faq.keys()) of the keys that best answer `text`, best
        first; [] when none fits well enough."""
        scored = self.score(locale, text)
        if not scored:
            return []
        best = max(score for score, _ in scored)
        floor = max(_MIN_SCORE, best * _RELATIVE_CUTOFF)
        ranked = sorted((-score, pos) for score, pos in scored if score >= floor)
        return [pos for _, pos in ranked[:limit]]

    def score(self, locale: str, text: str) -> list[tuple[float, int]]:
        """(score, position) of every key that `text` matches at all."""
        index = self._index[locale]
        tokens = list(dict.fromkeys(tokenize(text)))[:_MAX_QUERY_TOKENS]
        if not tokens:
            return []
        matches = [self._vocabulary.matches(token) for token in tokens]
        # Every word a query word stands for: to check multi-word keywords quickly.
        present: dict[str, float] = {}
        for found in matches:
            for word, sim in found.items():
                present[word] = max(present.get(word, 0.0), sim)
        present_words = set(present)
        scored: list[tuple[float, int]] = []
        for pos, key in enumerate(index.keys):
            strong_score = 0.0
            answer_score = 0.0
            for found in matches:
                best_strong = 0.0
                best_answer = 0.0
                for word, sim in found.items():
                    weight = key.strong.get(word)
                    if weight is not None:
                        best_strong = max(best_strong, sim * weight * index.strong_idf[word])
                    if word in key.answer:
                        best_answer = max(best_answer, sim * index.answer_idf[word])
                if best_strong:
                    strong_score += best_strong
                else:
                    answer_score += best_answer
            bonus = sum(gain for words, gain in key.phrases if words <= present_words)
            score = strong_score + bonus + _ANSWER_WEIGHT * answer_score
            if score > 0:
                scored.append((round(score, 6), pos))
        return scored


def _raise_weights(weights: dict[str, float], words: Iterable[str], weight: float) -> None:
    for word in words:
        weights[word] = max(weights.get(word, 0.0), weight)
