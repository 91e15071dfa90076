"""Score the system on a gold set (format: ../shared/eval/README.md). Metrics are pure functions.

A retrieved or cited passage *matches* an evidence quote when, after normalisation (NFKC,
case-fold, whitespace collapsed), their longest common substring is at least 60% of the
quote's length. Figures are reported overall and by language and question type.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

from qa.documents import Answer
from qa.errors import QAError
from qa.text import normalize

MATCH_SHARE = 0.6
KS = (1, 5, 10)


@dataclass(frozen=True)
class GoldItem:
    id: str
    question: str
    lang: str
    type: str
    answerable: bool
    answers: list[list[str]] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)  # quotes
    needs_all_evidence: bool = False


def load_gold(path: Path) -> list[GoldItem]:
    """Read a gold JSONL file; a malformed line is reported with its number."""
    items = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise QAError(f"Cannot read the gold file {path}: {exc}") from None
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            items.append(
                GoldItem(
                    id=str(d.get("id", f"line-{n}")),
                    question=d["question"],
                    lang=d.get("lang", "?"),
                    type=d.get("type", "?"),
                    answerable=bool(d.get("answerable", True)),
                    answers=[list(g) for g in d.get("answers", [])],
                    evidence=[e["quote"] for e in d.get("evidence", [])],
                    needs_all_evidence=bool(d.get("needs_all_evidence", False)),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise QAError(
                f"{path}:{n}: not a gold item ({exc}); see the format in the README."
            ) from None
    return items


# --- matching -------------------------------------------------------------------------


def longest_common_substring(a: str, b: str) -> int:
    if not a or not b:
        return 0
    m = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return m.size


def passage_matches(passage: str, quote: str) -> bool:
    """The 60% longest-common-substring rule (a chunk boundary may cut a quote)."""
    q = normalize(quote)
    return bool(q) and longest_common_substring(normalize(passage), q) >= MATCH_SHARE * len(q)


def answer_is_correct(answer: str, groups: list[list[str]]) -> bool:
    """Every group has at least one alternative in the answer (after normalisation)."""
    text = normalize(answer)
    return all(any(normalize(alt) in text for alt in group) for group in groups)


def first_match_rank(passages: list[str], quotes: list[str]) -> int | None:
    for rank, text in enumerate(passages, start=1):
        if any(passage_matches(text, q) for q in quotes):
            return rank
    return None


def evidence_recall(passages: list[str], quotes: list[str]) -> float:
    if not quotes:
        return 0.0
    return sum(any(passage_matches(p, q) for p in passages) for q in quotes) / len(quotes)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


# --- one item -------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemResult:
    item: GoldItem
    answer: str
    abstained: bool
    first_rank: int | None  # rank of the first matching passage within the top k
    recall_at: dict[int, float]  # evidence recall at each k
    correct: bool
    citations: int
    precise_citations: int
    seconds: float
    abstain_score: float  # similarity margin over the calibrated threshold (<0: off-topic)
    confidence: float | None = None  # the answer's confidence (qa.documents.Answer)
    # llm answerer only: sentences the model wrote, how many the check accepted, and
    # whether the extractive answer was shown instead (error, refusal, nothing accepted)
    llm: bool = False
    generated: int = 0
    accepted: int = 0
    fallback: str | None = None
    llm_error: bool = False

    @property
    def failed(self) -> bool:
        if not self.item.answerable:
            return not self.abstained
        return not self.correct or self.first_rank is None or self.first_rank > 5


def score_item(item: GoldItem, answer: Answer, seconds: float) -> ItemResult:
    passages = [h.passage.text for h in answer.hits]
    rank = first_match_rank(passages, item.evidence) if item.answerable else None
    recall = {k: evidence_recall(passages[:k], item.evidence) for k in KS}
    correct = (
        item.answerable and not answer.abstained and answer_is_correct(answer.answer, item.answers)
    )
    precise = 0
    for c in answer.citations:  # the quote itself, as the shared scorer reads a citation
        if any(passage_matches(c.quote, q) for q in item.evidence) or (
            item.answers and answer_is_correct(c.quote, item.answers)
        ):
            precise += 1
    gen = answer.generation
    llm = {}
    if gen is not None:
        llm = {
            "llm": True,
            "generated": gen.accepted + len(gen.removed),
            "accepted": gen.accepted,
            "fallback": gen.fallback,
            "llm_error": gen.error is not None,
        }
    return ItemResult(
        item=item,
        answer=answer.answer,
        abstained=answer.abstained,
        first_rank=rank,
        recall_at=recall,
        correct=bool(correct),
        citations=len(answer.citations),
        precise_citations=precise,
        seconds=seconds,
        abstain_score=answer.margin if answer.margin is not None else -1.0,
        confidence=answer.confidence,
        **llm,
    )


# --- aggregate ------------------------------------------------------------------------


def summarize(results: list[ItemResult]) -> dict[str, float | int | None]:
    """Every figure of the gold-set README for one group of items."""
    answerable = [r for r in results if r.item.answerable]
    unanswerable = [r for r in results if not r.item.answerable]
    needs_all = [r for r in answerable if r.item.needs_all_evidence]
    cited = [r for r in answerable if not r.abstained]

    def share(n: int, d: int) -> float | None:
        return round(n / d, 4) if d else None

    out: dict[str, float | int | None] = {"items": len(results)}
    for k in KS:
        hits = sum(1 for r in answerable if r.first_rank is not None and r.first_rank <= k)
        out[f"hit@{k}"] = share(hits, len(answerable))
    k_max = max(KS)
    for k in KS:
        recall = sum(r.recall_at[k] for r in needs_all)
        out[f"evidence_recall@{k}"] = round(recall / len(needs_all), 4) if needs_all else None
    mrr = sum(1 / r.first_rank for r in answerable if r.first_rank and r.first_rank <= k_max)
    out["mrr@10"] = round(mrr / len(answerable), 4) if answerable else None
    out["answer_accuracy"] = share(sum(r.correct for r in answerable), len(answerable))
    out["citation_precision"] = share(
        sum(r.precise_citations for r in cited), sum(r.citations for r in cited)
    )
    out["abstention_recall"] = share(sum(r.abstained for r in unanswerable), len(unanswerable))
    out["false_abstention"] = share(sum(r.abstained for r in answerable), len(answerable))
    secs = [r.seconds for r in results]
    out["latency_p50"] = round(percentile(secs, 0.5), 4) if secs else None
    out["latency_p95"] = round(percentile(secs, 0.95), 4) if secs else None
    if any(r.llm for r in results):
        out |= faithfulness(results)
    return out


def faithfulness(results: list[ItemResult]) -> dict[str, float | int | None]:
    """The llm answerer's figures: of the sentences the model wrote, the share the check
    accepted (shown as checked) and the share it removed; of the questions sent to the
    model (not abstained), the share answered with the extractive answer instead, and the
    share where the server failed."""
    generated = sum(r.generated for r in results)
    accepted = sum(r.accepted for r in results)
    asked = [r for r in results if r.llm and not (r.abstained and r.fallback is None)]

    def share(n: int, d: int) -> float | None:
        return round(n / d, 4) if d else None

    return {
        "llm_sentences": generated,
        "faithfulness": share(accepted, generated),
        "removed": share(generated - accepted, generated),
        "llm_fallback": share(sum(r.fallback is not None for r in asked), len(asked)),
        "llm_errors": share(sum(r.llm_error for r in asked), len(asked)),
    }


def risk_coverage(results: list[ItemResult], steps: int = 10) -> list[dict[str, float]]:
    """Precision of the answered questions against the share answered, if only the most
    confident answers were given: the answered items sorted by confidence, cut at each
    tenth of all items. An answer to an unanswerable question counts as wrong; a question
    the system abstained on is never answered, whatever the cut."""
    answered = sorted(
        (r for r in results if not r.abstained),
        key=lambda r: -(r.confidence if r.confidence is not None else 0.0),
    )
    rows = []
    for i in range(1, steps + 1):
        n = min(len(answered), round(len(results) * i / steps))
        if n == 0 or (rows and rows[-1]["answered"] == n):
            continue
        top = answered[:n]
        rows.append(
            {
                "answered": n,
                "coverage": round(n / len(results), 3),
                "precision": round(sum(r.correct for r in top) / n, 3),
                "min_confidence": round(top[-1].confidence or 0.0, 3),
            }
        )
    return rows


def reliability(results: list[ItemResult], bins: int = 5) -> dict:
    """Whether the confidence of an answer is the chance it is right, over the answered
    items (an answer to an unanswerable question counts as wrong): see `calibration`."""
    return calibration(
        [
            (r.confidence, r.correct)
            for r in results
            if not r.abstained and r.confidence is not None
        ],
        bins,
    )


def calibration(pairs: list[tuple[float, bool]], bins: int = 5) -> dict:
    """(confidence, right) pairs in equal-width bins of confidence, each bin's mean
    confidence beside its share right, and the expected calibration error, the
    share-weighted gap between the two."""
    rows, error = [], 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = [(c, ok) for c, ok in pairs if lo <= c < hi or (b == bins - 1 and c == 1)]
        if not inside:
            continue
        mean = sum(c for c, _ in inside) / len(inside)
        right = sum(ok for _, ok in inside) / len(inside)
        error += len(inside) / len(pairs) * abs(mean - right)
        rows.append(
            {
                "from": lo,
                "to": hi,
                "answered": len(inside),
                "confidence": round(mean, 3),
                "right": round(right, 3),
            }
        )
    return {"bins": rows, "calibration_error": round(error, 3) if pairs else None}


def abstention_tradeoff(results: list[ItemResult], steps: int = 11) -> list[dict[str, float]]:
    """Abstention recall against false abstention if the calibrated thresholds were moved
    by each of `steps` shifts spanning the observed margins (0 = as calibrated). Only the
    similarity rule is swept; the other abstention rules are left out of this table."""
    scores = [r.abstain_score for r in results]
    if not scores:
        return []
    lo, hi = min(min(scores), 0.0), max(scores)
    answerable = [r for r in results if r.item.answerable]
    unanswerable = [r for r in results if not r.item.answerable]
    rows = []
    for i in range(steps):
        t = lo + (hi - lo) * i / (steps - 1)
        rows.append(
            {
                "threshold": round(t, 3),
                "abstention_recall": round(
                    sum(r.abstain_score < t for r in unanswerable) / len(unanswerable), 3
                )
                if unanswerable
                else None,
                "false_abstention": round(
                    sum(r.abstain_score < t for r in answerable) / len(answerable), 3
                )
                if answerable
                else None,
            }
        )
    return rows


@dataclass
class Report:
    overall: dict
    by_lang: dict[str, dict]
    by_type: dict[str, dict]
    tradeoff: list[dict]
    risk_coverage: list[dict]
    reliability: dict
    failures: list[dict]
    settings: dict

    def to_dict(self) -> dict:
        return asdict(self)


def evaluate(
    items: Iterable[GoldItem],
    ask: Callable[[str], Answer],
    settings: dict | None = None,
) -> Report:
    results = []
    for item in items:
        started = time.perf_counter()
        answer = ask(item.question)
        results.append(score_item(item, answer, time.perf_counter() - started))

    def groups(key: Callable[[ItemResult], str]) -> dict[str, dict]:
        names = sorted({key(r) for r in results})
        return {n: summarize([r for r in results if key(r) == n]) for n in names}

    failures = [
        {
            "id": r.item.id,
            "type": r.item.type,
            "lang": r.item.lang,
            "question": r.item.question,
            "expected": r.item.answers if r.item.answerable else "abstain",
            "got": r.answer,
            "abstained": r.abstained,
            "evidence_rank": r.first_rank,
            "abstain_score": round(r.abstain_score, 3),
        }
        for r in results
        if r.failed
    ]
    return Report(
        overall=summarize(results),
        by_lang=groups(lambda r: r.item.lang),
        by_type=groups(lambda r: r.item.type),
        tradeoff=abstention_tradeoff(results),
        risk_coverage=risk_coverage(results),
        reliability=reliability(results),
        failures=failures,
        settings=settings or {},
    )


COLUMNS = [
    ("items", "n"),
    ("hit@1", "hit@1"),
    ("hit@5", "hit@5"),
    ("hit@10", "hit@10"),
    ("evidence_recall@10", "ev.rec@10"),
    ("mrr@10", "MRR@10"),
    ("answer_accuracy", "answer"),
    ("citation_precision", "cite.prec"),
    ("abstention_recall", "abst.rec"),
    ("false_abstention", "false.abst"),
    ("latency_p50", "p50 s"),
    ("latency_p95", "p95 s"),
]


def format_report(report: Report) -> str:
    def fmt(v) -> str:
        if v is None:
            return "—"
        return str(v) if isinstance(v, int) else f"{v:.3f}"

    header = f"{'group':<16}" + "".join(f"{label:>11}" for _, label in COLUMNS)
    lines = [header, "-" * len(header)]
    rows = [("overall", report.overall)]
    rows += [(f"lang={k}", v) for k, v in report.by_lang.items()]
    rows += [(f"type={k}", v) for k, v in report.by_type.items()]
    for name, figures in rows:
        lines.append(f"{name:<16}" + "".join(f"{fmt(figures.get(key)):>11}" for key, _ in COLUMNS))
    if "faithfulness" in report.overall:
        lines.append("")
        lines.append(
            "Language model answers (share of the sentences it wrote that the check accepted / "
            "removed; questions answered extractively instead; server failures):"
        )
        lines.append(
            f"{'group':<16}{'sentences':>11}{'faithful':>11}{'removed':>11}"
            f"{'fallback':>11}{'errors':>11}"
        )
        for name, f in rows:
            lines.append(
                f"{name:<16}{fmt(f.get('llm_sentences')):>11}{fmt(f.get('faithfulness')):>11}"
                f"{fmt(f.get('removed')):>11}{fmt(f.get('llm_fallback')):>11}"
                f"{fmt(f.get('llm_errors')):>11}"
            )
    lines.append("")
    lines.append(
        "Abstention trade-off: the calibrated similarity thresholds moved by a shift "
        "(0 = as calibrated; similarity rule only):"
    )
    lines.append(f"{'shift':>10}{'abst.rec':>10}{'false.abst':>12}")
    for row in report.tradeoff:
        lines.append(
            f"{row['threshold']:>10.3f}{fmt(row['abstention_recall']):>10}"
            f"{fmt(row['false_abstention']):>12}"
        )
    lines.append("")
    lines.append(
        "Risk-coverage: precision of the answers given if only the most confident were kept "
        "(an answer to an unanswerable question counts as wrong):"
    )
    lines.append(f"{'coverage':>10}{'precision':>11}{'confidence ≥':>14}")
    for row in report.risk_coverage:
        lines.append(
            f"{row['coverage']:>10.3f}{row['precision']:>11.3f}{row['min_confidence']:>14.3f}"
        )
    lines.append("")
    lines.append(
        "Reliability: mean confidence against the share right, answered items by confidence "
        f"(calibration error {fmt(report.reliability['calibration_error'])}):"
    )
    lines.append(f"{'confidence':>12}{'answered':>10}{'mean':>8}{'right':>8}")
    for row in report.reliability["bins"]:
        lines.append(
            f"{row['from']:>5.1f}–{row['to']:<6.1f}{row['answered']:>10}"
            f"{row['confidence']:>8.3f}{row['right']:>8.3f}"
        )
    lines.append("")
    lines.append(f"Failed items: {len(report.failures)}")
    for f in report.failures:
        lines.append(f"- {f['id']} [{f['lang']}/{f['type']}] {f['question']}")
        lines.append(f"    expected: {f['expected']}")
        lines.append(
            f"    got: {f['got'][:300]}"
            + (f"  (evidence at rank {f['evidence_rank']})" if f["evidence_rank"] else "")
        )
    return "\n".join(lines)
