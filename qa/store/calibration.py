"""Abstention threshold calibrated on the index itself, per model and per collection.

Off-topic probe questions (cooking, sport, science, software, health, travel...) are asked
of the freshly built index, per question language (English and Vietnamese probes); the
threshold for a language is the 70th percentile of its probes' best similarities: seven in
ten off-topic questions abstain on similarity alone, the answer gate (qa/answer/abstention.py)
judges the rest, and a collection that happens to cover a probe's topic (a cookbook, a
weather report) does not raise the bar for all. At the 90th percentile, questions written
in other words than their documents' (most questions of a collection nobody tuned on)
abstained on similarity before the gate could judge them: on the gold-style groups 67 of
514 answerable questions did (docs/quality.md, fifteenth round).
Cosine scales differ between models (e5 sits in 0.7-0.9, MiniLM in 0-0.8), between
collections and between languages (a model that does not know Vietnamese finds every
Vietnamese text similar to every other), which is why no fixed constant is used. `qa eval`
shows the abstention / false-abstention trade-off around the chosen values.

The same probes measure how much lower a multilingual model's cosines run between
languages: the mean similarity of a language's probes to each passage language (probe ·
that language's centroid) gives the offset that puts a passage in another language on the
scale of the question's own (`similarity_offsets`). Without it, a Vietnamese question ranks
every Vietnamese passage above the English one that answers it.

The threshold is also taken per document (`document_thresholds`): what the probes reach on
that document's own passages. Documents sit at different heights on the cosine scale
(19th-century prose runs lower than a technical summary), so one collection-wide value shut
out questions that a low-lying document answers. A document's value depends only on its own
vectors, so a store computes it when the document is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from qa.documents import Passage

QUANTILE = 0.7

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
    "Làm thế nào để giảm cân an toàn sau khi sinh con?",
    "Công thức làm bánh flan bằng nồi cơm điện là gì?",
    "Điện thoại nào chụp ảnh đẹp nhất trong tầm giá mười triệu?",
    "Tại sao lá cây chuyển sang màu vàng vào mùa thu?",
    "Cách làm mứt dừa non cho ngày Tết?",
    "Nên cho trẻ sơ sinh uống bao nhiêu sữa mỗi ngày?",
    "Bài hát nào của Sơn Tùng được nghe nhiều nhất?",
    "Mùa nào là thời điểm đẹp nhất để đi du lịch Sa Pa?",
]


def calibrate_min_score(best_scores: list[float], quantile: float = QUANTILE) -> float:
    """The threshold under which `quantile` of the probes' best similarities fall."""
    if not best_scores:
        raise ValueError("no probe scores")
    return float(np.quantile(np.asarray(best_scores, dtype=np.float64), quantile))


_PROBE_VECTORS: dict[str, np.ndarray] = {}  # model name -> probe embeddings
VERSION = 4  # 2: language offsets, 3: per document, 4: quantile 0.7; an older index is recalibrated when updated


def forget_probe_vectors() -> None:
    """Drop the cached probe embeddings (a benchmark times a build as a fresh process)."""
    _PROBE_VECTORS.clear()


def probe_vectors(embed_queries, model: str | None = None) -> np.ndarray:
    """The probes' embeddings; the same for every build with a model, so embedded once per
    process (adding or removing one document does not pay for 56 queries again)."""
    probes = _PROBE_VECTORS.get(model) if model else None
    if probes is None:
        probes = embed_queries(OFF_TOPIC_PROBES)
        if model:
            _PROBE_VECTORS[model] = probes
    return probes


def language_offsets(centroids: dict[str, np.ndarray], probes: np.ndarray) -> dict:
    """Per question language and passage language, how much lower the probes' mean
    similarity to that passage language runs than to their own language's passages (or,
    when the collection has none, to the closest language); never below 0, as the offset
    only makes up for the language gap. `centroids`: mean vector per passage language, so
    probe · centroid is a probe's mean cosine over those passages."""
    probe_langs = np.array(probe_languages())
    table: dict[str, dict[str, float]] = {}
    for q_lang in sorted(set(probe_langs)):
        own = probes[probe_langs == q_lang]
        means = {lp: float(np.mean(own @ c)) for lp, c in centroids.items()}
        reference = means.get(q_lang, max(means.values()))
        table[q_lang] = {lp: round(max(0.0, reference - m), 4) for lp, m in means.items()}
    return table


BLOCK_ROWS = 65_536  # vectors compared with the probes at a time: bounded memory


def _best_and_mean(blocks, probes: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Each probe's best similarity over the vectors of `blocks`, their mean vector and
    count, a block of rows at a time (float16 or memory-mapped blocks are read as they go)."""
    best = np.full(len(probes), -np.inf, dtype=np.float32)
    total = np.zeros(probes.shape[1], dtype=np.float64)
    count = 0
    for block in [blocks] if isinstance(blocks, np.ndarray) else blocks:
        for i in range(0, len(block), BLOCK_ROWS):
            part = np.asarray(block[i : i + BLOCK_ROWS], dtype=np.float32)
            best = np.maximum(best, (part @ probes.T).max(axis=0))
            total += part.sum(axis=0, dtype=np.float64)
            count += len(part)
    return best, (total / max(count, 1)).astype(np.float32), count


def probe_languages() -> list[str]:
    """Each probe's language, as questions' languages are detected."""
    from qa.ingest.language import detect_language

    return [detect_language(q) for q in OFF_TOPIC_PROBES]


def document_thresholds(
    vectors_by_document: Iterable[tuple[str, np.ndarray]], probes: np.ndarray
) -> dict[str, dict[str, float]]:
    """doc_id -> question language -> the threshold over that document's own vectors (its
    passages and sentences): where the probes of that language reach on it."""
    langs = np.asarray(probe_languages())
    out: dict[str, dict[str, float]] = {}
    for doc_id, vectors in vectors_by_document:
        if not len(vectors):
            continue
        best, _, _ = _best_and_mean(np.asarray(vectors, dtype=np.float32), probes)
        out[doc_id] = {
            lg: round(calibrate_min_score(best[langs == lg].tolist()), 4)
            for lg in sorted(set(langs.tolist()))
        }
    return out


def calibrate(
    vectors_by_language: dict,
    embed_queries,
    model: str | None = None,
    vectors_by_document: Iterable[tuple[str, np.ndarray]] = (),
) -> dict:
    """Thresholds per (question language, passage language): what off-topic probes in one
    language reach on the passages of another. Cross-lingual similarities run lower than
    same-language ones (e5 finds any two Vietnamese texts a little alike), so one threshold
    per question language would shut out the cross-lingual answers. A language's vectors
    are an array or a list of arrays (blocks; passages and sentences, say)."""
    probes = None
    probe_langs = probe_languages()
    table: dict[str, dict[str, float]] = {}
    centroids: dict[str, np.ndarray] = {}
    for passage_lang, blocks in vectors_by_language.items():
        if probes is None:
            probes = np.asarray(probe_vectors(embed_queries, model), dtype=np.float32)
        best, centroid, count = _best_and_mean(blocks, probes)
        if not count:
            continue
        centroids[passage_lang] = centroid
        for q_lang in sorted(set(probe_langs)):
            scores = [float(b) for b, lg in zip(best, probe_langs, strict=True) if lg == q_lang]
            table.setdefault(q_lang, {})[passage_lang] = round(calibrate_min_score(scores), 4)
    if not centroids:
        return {}
    documents = document_thresholds(vectors_by_document, probes)
    return described(table, language_offsets(centroids, probes), probe_langs, documents)


def described(
    min_score: dict, offsets: dict, probe_langs: list[str], documents: dict | None = None
) -> dict:
    """The calibration record kept with the index (both stores write the same one)."""
    return {
        "version": VERSION,
        "method": f"quantile {QUANTILE} of the best similarity of off-topic probes, per "
        "question language and passage language, and per question language and document",
        "min_score": min_score,
        "document_min_score": documents or {},
        "offset": offsets,
        "probes": {lg: probe_langs.count(lg) for lg in sorted(set(probe_langs))},
    }


def threshold_for(
    calibration: dict, question_language: str, fallback: float
) -> Callable[[Passage], float]:
    """A function: passage -> the abstention threshold for this question there: its
    document's own when calibrated, else its language's; a language without probes or
    passages gets the strictest value known."""
    table = (calibration or {}).get("min_score", {})
    if not table or not isinstance(next(iter(table.values())), dict):
        return lambda passage: fallback
    row = table.get(question_language) or {}
    strictest = max((t for r in table.values() for t in r.values()), default=fallback)
    documents = calibration.get("document_min_score") or {}

    def threshold(passage: Passage) -> float:
        own = documents.get(passage.doc_id, {}).get(question_language)
        return own if own is not None else row.get(passage.language, strictest)

    return threshold


def similarity_offsets(calibration: dict, question_language: str) -> dict[str, float]:
    """Passage language -> what to add to its cosines with a question in this language, so
    that passages of every language compete on one scale; every passage language of the
    index is named (calibration is redone at every write). Empty when there is nothing to
    add: one passage language, or a question language without probes."""
    row = ((calibration or {}).get("offset") or {}).get(question_language) or {}
    return {lang: float(v) for lang, v in row.items()} if any(row.values()) else {}
