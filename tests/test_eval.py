"""Gold-set scoring: each metric on tiny hand-made cases, `qa eval` end to end, and a
quality floor on the development set so that a regression fails CI."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qa.eval import (
    GoldItem,
    ItemResult,
    answer_is_correct,
    evaluate,
    evidence_recall,
    first_match_rank,
    longest_common_substring,
    passage_matches,
    reliability,
    risk_coverage,
    summarize,
)

from conftest import make_qa

DEV = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev.jsonl"


def test_longest_common_substring_counts_the_longest_shared_run():
    assert longest_common_substring("abcdefg", "xxcdeyy") == 3
    assert longest_common_substring("", "abc") == 0


def test_a_passage_matches_a_quote_when_it_holds_60_percent_of_it_contiguously():
    quote = "Sweden pledged a total amount of approximately EUR 6.5 billion over 2024-2026."
    cut = quote[: int(len(quote) * 0.65)]  # a chunk boundary cut the quote
    assert passage_matches("Earlier text. " + cut, quote)
    assert not passage_matches("Earlier text. " + quote[: int(len(quote) * 0.5)], quote)
    # normalisation: case, width and whitespace do not matter
    assert passage_matches(
        "SWEDEN  pledged a total\namount of approximately ＥＵＲ 6.5 billion", quote
    )


def test_an_answer_is_correct_only_when_every_group_has_an_alternative():
    groups = [["France", "French"], ["Canada"]]
    assert answer_is_correct("The French and Canada’s agreements [1]", groups)
    assert not answer_is_correct("The French agreement [1]", groups)
    assert answer_is_correct("anything", [])


def test_first_match_rank_and_evidence_recall():
    passages = [
        "nothing here",
        "Norway is providing EUR 6.4 billion",
        "Sweden pledged EUR 6.5 billion",
    ]
    quotes = ["Sweden pledged EUR 6.5 billion", "Norway is providing EUR 6.4 billion"]
    assert first_match_rank(passages, quotes) == 2
    assert first_match_rank(passages[:1], quotes) is None
    assert evidence_recall(passages, quotes) == 1.0
    assert evidence_recall(passages[:2], quotes) == 0.5


def _result(answerable, abstained, rank=None, correct=False, cites=0, precise=0, seconds=0.1):
    item = GoldItem("x", "q?", "en", "fact" if answerable else "unanswerable", answerable)
    return ItemResult(
        item, "a", abstained, rank, {1: 0.0, 5: 0.0, 10: 0.0}, correct, cites, precise, seconds, 0.5
    )


def test_risk_coverage_keeps_the_most_confident_answers_and_counts_abstentions_as_unanswered():
    from dataclasses import replace

    results = [
        replace(_result(True, False, correct=True), confidence=0.9),
        replace(_result(False, False), confidence=0.6),  # answered an unanswerable: wrong
        replace(_result(True, False, correct=True), confidence=0.3),
        replace(_result(True, True), confidence=0.1),  # abstained: never answered
    ]
    rows = risk_coverage(results, steps=4)
    assert [(r["answered"], r["coverage"], r["precision"]) for r in rows] == [
        (1, 0.25, 1.0),
        (2, 0.5, 0.5),
        (3, 0.75, 0.667),
    ]
    assert rows[0]["min_confidence"] == 0.9


def test_reliability_sets_each_confidence_bin_beside_its_share_of_right_answers():
    from dataclasses import replace

    results = [
        replace(_result(True, False, correct=True), confidence=0.9),
        replace(_result(True, False, correct=False), confidence=0.7),
        replace(_result(False, False), confidence=0.1),  # answered an unanswerable: wrong
        replace(_result(True, False, correct=True), confidence=0.1),
        replace(_result(True, True), confidence=0.9),  # abstained: not an answer
    ]
    table = reliability(results, bins=2)
    assert [(r["answered"], r["confidence"], r["right"]) for r in table["bins"]] == [
        (2, 0.1, 0.5),
        (2, 0.8, 0.5),
    ]
    assert table["calibration_error"] == round(0.5 * 0.4 + 0.5 * 0.3, 3)


def test_summary_figures_follow_the_definitions_and_leave_empty_groups_undefined():
    results = [
        _result(True, False, rank=1, correct=True, cites=2, precise=2),
        _result(True, False, rank=4, correct=False, cites=1, precise=0),
        _result(True, True, rank=None),
        _result(False, True),
    ]
    s = summarize(results)
    assert s["hit@1"] == round(1 / 3, 4) and s["hit@5"] == round(2 / 3, 4)
    assert s["mrr@10"] == round((1 + 1 / 4) / 3, 4)
    assert s["answer_accuracy"] == round(1 / 3, 4)
    assert s["citation_precision"] == round(2 / 3, 4)
    assert s["abstention_recall"] == 1.0 and s["false_abstention"] == round(1 / 3, 4)
    assert summarize([_result(True, False, rank=1)])["abstention_recall"] is None


DOCS = {
    "sweden.txt": "Sweden pledged a total of approximately EUR 6.5 billion over 2024-2026.",
    "norway.txt": "Norway is providing approximately EUR 6.4 billion for the period 2023-2027.",
    "latvia.txt": "Latvia set a target of 0.25% of GDP annually for military support.",
}
GOLD = [
    {
        "id": "t1",
        "question": "How much did Norway pledge?",
        "lang": "en",
        "type": "number",
        "answerable": True,
        "answers": [["6.4 billion"]],
        "evidence": [
            {"doc": "norway.txt", "quote": "Norway is providing approximately EUR 6.4 billion"}
        ],
    },
    {
        "id": "t2",
        "question": "What GDP share did Latvia target?",
        "lang": "en",
        "type": "number",
        "answerable": True,
        "answers": [["0.25%"]],
        "evidence": [{"doc": "latvia.txt", "quote": "Latvia set a target of 0.25% of GDP"}],
    },
    {
        "id": "t3",
        "question": "What is the best way to grow tomatoes?",
        "lang": "en",
        "type": "unanswerable",
        "answerable": False,
        "answers": [],
        "evidence": [],
    },
]


def test_qa_eval_scores_a_small_gold_file_and_writes_json(tmp_path, embedder):
    make_qa(tmp_path, embedder, DOCS)
    gold = tmp_path / "gold.jsonl"
    gold.write_text("\n".join(json.dumps(g) for g in GOLD))
    run = [sys.executable, "-m", "qa.cli"]
    subprocess.run([*run, "index"], cwd=tmp_path, check=True, capture_output=True)
    out = subprocess.run(
        [*run, "eval", str(gold), "--json", "report.json"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "overall" in out and "type=number" in out and "Abstention trade-off" in out
    report = json.loads((tmp_path / "report.json").read_text())
    overall = report["overall"]
    assert overall["items"] == 3 and overall["hit@1"] == 1.0
    assert overall["answer_accuracy"] == 1.0 and overall["abstention_recall"] == 1.0
    assert 0 < overall["latency_p50"] <= overall["latency_p95"]


@pytest.mark.skipif(not DEV.exists(), reason=f"development set not found at {DEV}")
def test_quality_floor_on_the_development_set(corpus_qa):
    """Measured at 0.974 hit@5, 0.789 answer accuracy, 0.857 abstention recall and 0 false
    abstention with the reader on (English 0.781, Vietnamese 0.833, cross-lingual 0.8); the
    reader was chosen on the tuning halves of eval/collections and costs dev two English
    answers (docs/quality.md, "Seventh round")."""
    from qa.eval import load_gold

    report = evaluate(load_gold(DEV), lambda q: corpus_qa.ask(q, 10))
    o = report.overall
    assert o["hit@5"] >= 0.9
    assert o["answer_accuracy"] >= 0.75
    assert o["abstention_recall"] >= 0.6 and o["false_abstention"] <= 0.05
    assert report.by_lang["en"]["answer_accuracy"] >= 0.75
    assert report.by_lang["vi"]["answer_accuracy"] >= 0.8
    assert report.by_type["cross_lingual"]["answer_accuracy"] >= 0.8
