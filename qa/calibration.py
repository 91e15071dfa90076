"""Abstention threshold calibrated on the index itself, per model and per collection.

Off-topic probe questions (cooking, sport, science, software, health, travel...) are asked
of the freshly built index, per question language (English and Vietnamese probes); the
threshold for a language is the highest best-passage similarity that any of its probes
reaches, so that no clearly off-topic question gets an answer from similarity alone.
Cosine scales differ between models (e5 sits in 0.7-0.9, MiniLM in 0-0.8), between
collections and between languages (a model that does not know Vietnamese finds every
Vietnamese text similar to every other), which is why no fixed constant is used. `qa eval`
shows the abstention / false-abstention trade-off around the chosen values.
"""

from __future__ import annotations

import numpy as np

QUANTILE = 1.0  # the highest probe similarity

OFF_TOPIC_PROBES = [
    "How long should I boil an egg for a runny yolk?",
    "What is a good substitute for buttermilk in pancakes?",
    "How do I make sourdough starter from scratch?",
    "Which spices go into a classic garam masala?",
    "How many calories are in a banana?",
    "Who scored the most goals in the 2010 Champions League season?",
    "What are the rules of cricket's leg before wicket?",
    "How do you wax cross-country skis?",
    "Which tennis player has won the most Wimbledon titles?",
    "What is the offside rule in ice hockey?",
    "Why is the sky blue?",
    "How far is Mars from the Sun?",
    "What causes the tides in the ocean?",
    "How does photosynthesis work in plants?",
    "What is the boiling point of water at high altitude?",
    "How do I reverse a linked list in Python?",
    "What is the difference between TCP and UDP?",
    "How do I resolve a merge conflict in git?",
    "Which JavaScript framework is best for a small website?",
    "How do I reset my router password?",
    "What are the symptoms of vitamin D deficiency?",
    "How many hours of sleep does a teenager need?",
    "Is it safe to exercise with a cold?",
    "How do I treat a bee sting?",
    "What is the best time of year to visit Japan?",
    "How do I get from the airport to the city centre in Lisbon?",
    "Which beaches in Thailand are good for snorkelling?",
    "What documents do I need to rent a car abroad?",
    "Who directed the film Jurassic Park?",
    "How many seasons does the TV series Friends have?",
    "What key is Beethoven's Moonlight Sonata in?",
    "Who wrote the novel Pride and Prejudice?",
    "How do I calculate compound interest on savings?",
    "What is a good credit score for a mortgage?",
    "How do index funds differ from mutual funds?",
    "How often should I water a cactus?",
    "When should tomato seedlings be planted outdoors?",
    "How do I remove red wine stains from a carpet?",
    "What is the tallest mountain in Africa?",
    "How do bees make honey?",
    "Làm thế nào để nấu phở bò ngon tại nhà?",
    "Bao nhiêu giờ ngủ mỗi đêm là đủ cho người lớn?",
    "Đội bóng nào vô địch giải bóng đá ngoại hạng Anh nhiều nhất?",
    "Cách chăm sóc cây lan trong mùa hè như thế nào?",
    "Thời tiết ở Đà Lạt vào tháng mười hai ra sao?",
    "Làm sao để học lập trình Python hiệu quả?",
    "Vì sao bầu trời có màu xanh?",
    "Giá vé máy bay từ Hà Nội đi Thành phố Hồ Chí Minh là bao nhiêu?",
]


def calibrate_min_score(best_scores: list[float], quantile: float = QUANTILE) -> float:
    """The threshold under which `quantile` of the probes' best similarities fall."""
    if not best_scores:
        raise ValueError("no probe scores")
    return float(np.quantile(np.asarray(best_scores, dtype=np.float64), quantile))


def calibrate(passage_vectors: np.ndarray, embed_queries) -> dict:
    """Thresholds per probe language for an index whose passages have these vectors."""
    from .language import detect_language

    if not len(passage_vectors):
        return {}
    probes = embed_queries(OFF_TOPIC_PROBES)
    best = (np.asarray(passage_vectors, dtype=np.float32) @ probes.T).max(axis=0)
    by_lang: dict[str, list[float]] = {}
    for question, score in zip(OFF_TOPIC_PROBES, best, strict=True):
        by_lang.setdefault(detect_language(question), []).append(float(score))
    return {
        "method": f"quantile {QUANTILE} of the best passage similarity of off-topic probes",
        "min_score": {lang: round(calibrate_min_score(s), 4) for lang, s in by_lang.items()},
        "probes": {lang: len(s) for lang, s in by_lang.items()},
    }


def min_score_for(calibration: dict, language: str, fallback: float) -> float:
    """The calibrated threshold for a question language (the strictest one for a language
    without probes)."""
    thresholds = calibration.get("min_score", {}) if calibration else {}
    if language in thresholds:
        return thresholds[language]
    return max(thresholds.values(), default=fallback)
