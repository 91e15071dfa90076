"""Check every sentence a language model wrote against the passage(s) it cites.

A generated sentence is accepted only when
1. it cites a passage, and only passages that were given ([n] within 1..number given);
2. every number (dates included), name, month and quoted phrase in it occurs in a cited
   passage: a model that writes a figure or a name its source lacks has made it up or
   taken it from the wrong passage;
3. its meaning is close to what a cited passage says: the embedding similarity with the
   passage's best sentence reaches a threshold calibrated on the index (how similar
   sentences of different passages are to each other), or, when the user configures a
   CrossEncoder NLI model, the passage entails it.
Rule 2 catches what embeddings miss (a changed figure barely moves a vector); rule 3 catches
claims that share no name or figure with the source. Neither catches every paraphrase
that inverts a meaning; the NLI model is the better judge for that, when there is one.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from qa.answer.figures import DIGIT_WORDS, canonical_figure, figures
from qa.answer.rerank import load_cross_encoder
from qa.documents import Hit, Passage
from qa.ingest.sentences import split_sentences
from qa.store.embedding import Embedder
from qa.text import STOPWORDS, strip_marks

# [1], [1, 2], [1][2], [Passage 1], [1-2]
_CITE = re.compile(
    r"\[\s*(?:passages?\s*)?(\d{1,3}(?:\s*(?:,|;|-|–|and)\s*(?:passages?\s*)?\d{1,3})*)\s*\]",
    re.I,
)
_CITES_ONLY = re.compile(rf"^(?:\s*{_CITE.pattern})+\s*[.!?]?\s*$", re.I)
_LEADING_CITES = re.compile(rf"^((?:\s*{_CITE.pattern})+)", re.I)
_THINK = re.compile(r"<think>.*?(</think>|$)", re.S | re.I)  # reasoning models' scratchpad

# Capitalised words that open a sentence without naming anything
_OPENERS = set(
    """overall however both each yes no neither either together also additionally further
    furthermore moreover in on at by for from under with according after before during since
    until while although though because as if when where which who what this that these those
    there here it its they their he she we our its some many most several all any one two
    three four five six seven eight nine ten first second third finally then thus therefore
    so still yet instead meanwhile currently today recently previously later earlier
    nevertheless nonetheless similarly likewise specifically notably importantly instead""".split()
)
_QUOTED = re.compile(r"[“\"«]([^”\"»]{3,}?)[”\"»]")

FALLBACK_MIN_SIMILARITY = 0.5  # a collection too small to calibrate (fewer than 2 passages)
CALIBRATION_PERCENTILE = 95
CALIBRATION_SAMPLE = 1500  # sentences drawn for calibration; pairs grow with the square


@dataclass(frozen=True)
class GeneratedSentence:
    """A sentence as the model wrote it, split from its [n] markers."""

    text: str  # without markers
    cited: tuple[int, ...]  # passage numbers as written (1-based, in prompt order)


@dataclass(frozen=True)
class Verdict:
    """The check's decision on one sentence. `support` is, per cited passage (in order),
    the span (document offsets) of the sentence that best supports it."""

    supported: bool
    reason: str | None = None
    similarity: float | None = None
    support: tuple[tuple[Hit, int, int], ...] = ()


# --- splitting the model's text -------------------------------------------------------


def visible_text(text: str) -> str:
    """The reply without a reasoning model's <think> block (an unfinished one hides all
    that follows it, as it is still being written)."""
    return _THINK.sub("", text)


def _numbers(marker_body: str) -> list[int]:
    nums = [int(x) for x in re.findall(r"\d+", marker_body)]
    if re.search(r"\d\s*[-–]\s*\d", marker_body) and len(nums) == 2 and nums[0] < nums[1] <= 50:
        return list(range(nums[0], nums[1] + 1))
    return nums


def split_generated(text: str) -> list[GeneratedSentence]:
    """Sentences of the model's reply with the passage numbers each cites. A marker written
    after the full stop ("... billion. [1]") belongs to the sentence before it."""
    text = visible_text(text)
    pieces: list[str] = []
    for a, b in split_sentences(text):
        piece = text[a:b]
        lead = _LEADING_CITES.match(piece)
        if pieces and (lead or _CITES_ONLY.match(piece)):
            cut = lead.end() if lead else len(piece)
            pieces[-1] += " " + piece[:cut]
            piece = piece[cut:].strip()
            if not piece or _CITES_ONLY.match(piece):
                if piece:
                    pieces[-1] += " " + piece
                continue
        pieces.append(piece)
    out = []
    for piece in pieces:
        cited = tuple(dict.fromkeys(n for m in _CITE.finditer(piece) for n in _numbers(m[1])))
        clean = _CITE.sub(" ", piece)
        clean = re.sub(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+", "", clean)  # list bullets
        clean = re.sub(r"\s+([.,;:!?])", r"\1", " ".join(clean.split()))
        if any(ch.isalpha() for ch in clean):  # not a bare list number ("1.")
            out.append(GeneratedSentence(clean, cited))
    return out


def finished_sentences(text: str, done: bool) -> list[GeneratedSentence]:
    """While a reply streams in, the sentences that can no longer change: all but the last
    (it may still grow, or get its [n]); all of them once the reply is complete."""
    sentences = split_generated(text)
    return sentences if done else sentences[:-1]


def is_refusal(text: str) -> bool:
    """The model said the passages do not answer (the prompt's refusal, or close to it)."""
    t = " ".join(visible_text(text).casefold().split())
    return bool(
        re.search(
            r"(documents|passages|texts?|sources?) (do not|don't|does not|doesn't) "
            r"(answer|say|mention|contain)|cannot be answered|không trả lời",
            t,
        )
    ) and not _CITE.search(t)


# --- facts ----------------------------------------------------------------------------


def fold(text: str) -> str:
    """Case, width and diacritics folded (a model may drop Vietnamese diacritics)."""
    return strip_marks(unicodedata.normalize("NFKC", text).casefold(), "NFKD").replace("đ", "d")


def names_in(sentence: str, common: Callable[[str], bool]) -> list[str]:
    """Capitalised words, acronyms and words with digits ("G7"): the names, places, months
    and titles a sentence asserts. The first word counts only when it is not an everyday
    word (`common`) that merely opens the sentence."""
    found = []
    for i, m in enumerate(re.finditer(r"[^\W_][\w’']*", sentence)):  # Euro-Atlantic: 2
        w = re.sub(r"(['’]s|['’])$", "", m.group(0))
        if len(w) < 2 or not (w[0].isupper() or (w[0].isdigit() and not w.isdigit())):
            continue
        if w[0].isdigit() and figures(w) and re.fullmatch(r"[\d.,]+[a-z%]*", w):
            continue  # "6.5bn", "10th": a figure, checked as such
        low = w.casefold()
        if low in STOPWORDS or (i == 0 and (low in _OPENERS or common(low))):
            continue
        found.append(w)
    return found


def _word_in(word: str, tokens: set[str]) -> bool:
    """The word, or a form of it sharing its stem (Norway/Norwegian, Sweden/Swedish)."""
    w = fold(word)
    if w in tokens:
        return True
    return any(len(os.path.commonprefix([w, t])) >= max(4, min(len(w), len(t)) - 3) for t in tokens)


def missing_facts(sentence: str, passage_text: str, common: Callable[[str], bool]) -> list[str]:
    """The numbers, names and quoted phrases of `sentence` that `passage_text` lacks."""
    missing: list[str] = []
    have_figures = {canonical_figure(f) for f in figures(passage_text)}
    folded = fold(passage_text)
    for f in sorted(figures(sentence), key=sentence.find):
        if canonical_figure(f) in have_figures:
            continue
        word = DIGIT_WORDS.get(f)
        if word and re.search(rf"\b{word}\b", folded):
            continue
        missing.append(f)
    tokens = set(re.findall(r"\w+", folded))
    for name in names_in(sentence, common):
        if not _word_in(name, tokens) and name not in missing:
            missing.append(name)
    for phrase in _QUOTED.findall(sentence):
        if " ".join(fold(phrase).split()) not in " ".join(folded.split()):
            missing.append(f"“{phrase}”")
    return missing


# --- meaning --------------------------------------------------------------------------


class Judge(Protocol):
    """Decides whether the cited passages say what the sentence says: (accepted, score)."""

    def __call__(
        self, sentence: str, passages: Sequence[Passage], similarity: float
    ) -> tuple[bool, str | None]: ...


class SimilarityJudge:
    """Accepts a sentence whose best similarity with a cited sentence reaches `threshold`."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def __call__(self, sentence, passages, similarity):
        if similarity >= self.threshold:
            return True, None
        return False, (
            f"its meaning is not close to any sentence of the cited passage (similarity "
            f"{similarity:.2f}, needs {self.threshold:.2f})"
        )


class EntailmentJudge:
    """A sentence-transformers CrossEncoder NLI model: the cited passage (premise) must
    entail the sentence (hypothesis) with probability at least `min_probability`."""

    def __init__(self, name: str, min_probability: float = 0.5) -> None:
        self.model = load_cross_encoder(name, "QA_LLM_CHECKER", "embedding")
        self.min_probability = min_probability
        labels = {
            int(i): str(label).casefold()
            for i, label in (getattr(self.model.config, "id2label", None) or {}).items()
        }
        entail = [i for i, label in labels.items() if "entail" in label]
        self.entailment = entail[0] if entail else None

    def probability(self, premise: str, hypothesis: str) -> float:
        logits = np.asarray(
            self.model.predict([(premise, hypothesis)], show_progress_bar=False), dtype=float
        ).reshape(-1)
        if self.entailment is None or len(logits) == 1:  # one score: a sigmoid
            return float(1 / (1 + np.exp(-logits[0])))
        e = np.exp(logits - logits.max())
        return float(e[self.entailment] / e.sum())

    def __call__(self, sentence, passages, similarity):
        best = max(self.probability(p.text, sentence) for p in passages)
        if best >= self.min_probability:
            return True, None
        return False, f"the cited passage does not entail it (entailment {best:.2f})"


def make_judge(setting: str, threshold: float) -> Judge:
    if setting.startswith("cross-encoder:"):
        return EntailmentJudge(setting.split(":", 1)[1])
    return SimilarityJudge(threshold)


def calibrate_similarity(
    sentence_vectors: np.ndarray, sentences_per_passage: Sequence[int], seed: int = 0
) -> float:
    """The similarity a generated sentence must reach with its cited passage: the 95th
    percentile of similarities between sentences of different passages of the collection
    (a sentence no closer to its source than unrelated sentences of the collection are to
    each other is not said there). Cosine scales differ between models and collections, so
    no constant would do. Repeated sentences (chunk overlap) are left out."""
    passage_of = np.repeat(np.arange(len(sentences_per_passage)), sentences_per_passage)
    v = np.asarray(sentence_vectors, dtype=np.float32)
    if len(v) > CALIBRATION_SAMPLE:
        rows = np.random.default_rng(seed).choice(len(v), CALIBRATION_SAMPLE, replace=False)
        v, passage_of = v[rows], passage_of[rows]
    sims = v @ v.T
    different = (passage_of[:, None] != passage_of[None, :]) & (sims < 0.98)
    values = sims[np.triu(different, 1)]
    if len(values) < 3:
        return FALLBACK_MIN_SIMILARITY
    return float(np.percentile(values, CALIBRATION_PERCENTILE))


# --- the check ------------------------------------------------------------------------


class SentenceChecker:
    """Checks generated sentences against the passages given to the model (numbered from 1
    in the order of `hits`)."""

    def __init__(
        self,
        embedder: Embedder,
        sentence_vectors: Callable[[Passage], np.ndarray],
        judge: Judge,
        hits: Sequence[Hit],
    ) -> None:
        self.embedder = embedder
        self.sentence_vectors = sentence_vectors
        self.judge = judge
        self.hits = list(hits)
        # everyday words: those the passages also write in lower case
        words = re.findall(r"\w+", " ".join(h.passage.text for h in hits))
        self._lower_words = {w for w in words if w[0].islower()}

    def common(self, word: str) -> bool:
        return word in self._lower_words

    def check(self, sentence: GeneratedSentence) -> Verdict:
        if not sentence.cited:
            return Verdict(False, "no citation: it names no passage that supports it")
        outside = [n for n in sentence.cited if not 1 <= n <= len(self.hits)]
        if outside:
            return Verdict(
                False,
                f"it cites [{outside[0]}], but only passages 1–{len(self.hits)} were given",
            )
        cited = [self.hits[n - 1] for n in sentence.cited]
        text = " ".join(h.passage.text for h in cited)
        missing = missing_facts(sentence.text, text, self.common)
        where = "the cited passage" if len(cited) == 1 else "the cited passages"
        support, similarity = self._support(sentence.text, cited)
        if missing:
            return Verdict(
                False,
                f"{where} {'does' if len(cited) == 1 else 'do'} not mention "
                f"{', '.join(missing[:3])}",
                similarity,
            )
        ok, why = self.judge(sentence.text, [h.passage for h in cited], similarity)
        if not ok:
            return Verdict(False, why, similarity)
        return Verdict(True, None, similarity, support)

    def _support(self, text: str, cited: list[Hit]) -> tuple[tuple, float]:
        """Per cited passage its sentence closest to `text` (the quote shown as the
        citation), and the best similarity over all of them."""
        vector = self.embedder.embed_passages([text])[0]
        support = []
        best = -1.0
        for hit in cited:
            p = hit.passage
            spans = p.sentences or ((0, len(p.text)),)
            vectors = self.sentence_vectors(p)
            if len(vectors) != len(spans):
                vectors = self.embedder.embed_passages([p.text[a:b] for a, b in spans])
            sims = vectors @ vector
            i = int(np.argmax(sims))
            best = max(best, float(sims[i]))
            support.append((hit, p.start + spans[i][0], p.start + spans[i][1]))
        return tuple(support), best
