"""The reader: a cross-encoder (all-MiniLM-L6-v2 with adapters trained here) that reads the
question and a sentence together, so that the answer quotes the sentence that gives what
is asked rather than one that only shares the question's words."""

import pytest

from qa.answer.reader import load_reader
from qa.errors import QAError

from conftest import hits_of, make_qa

# Made up for these tests: in each, the first sentence shares the question's topic and
# gives nothing it asks for; the second gives it.
TOPIC_THEN_ANSWER = [
    (
        "Who was appointed to lead the new agency?",
        "The new agency was created by law in 2019.",
        "Maria Lopez was appointed its first director.",
    ),
    (
        "How many people attended the festival?",
        "The festival took place in the old town square.",
        "Around 12,000 people attended over three days.",
    ),
    (
        "Which supplier did the school choose for its new laptops?",
        "The school spent most of the spring comparing offers for its new laptops.",
        "The school chose Norvell Computing to supply the laptops, as its bid was the cheapest.",
    ),
]


@pytest.mark.parametrize(("question", "topic", "answer"), TOPIC_THEN_ANSWER)
def test_the_reader_rates_the_sentence_that_gives_what_is_asked_above_one_on_the_topic(
    question, topic, answer
):
    """What it does not do yet: read a sentence in its context. "It voted to close it."
    after "The committee met to discuss the bridge." is not recognised as the answer to
    "What did the committee decide about the bridge?" (see docs/quality.md)."""
    scores = load_reader().scores(question, [topic, answer])
    assert scores[1] > scores[0]


def test_with_the_reader_the_answer_quotes_the_sentence_that_gives_what_is_asked(
    tmp_path, embedder
):
    question, topic, answer = TOPIC_THEN_ANSWER[2]
    docs = {
        "school.txt": "School news\n\n"
        f"{topic} {answer} The laptops arrive before the autumn term. "
        "Parents also thanked the volunteers who repainted the library in April.\n"
    }
    qa = make_qa(tmp_path, embedder, docs, reader="on")
    qa.build()
    got = qa.ask(question)
    assert not got.abstained
    assert got.citations[0].quote == answer


def test_only_questions_and_sentences_in_the_readers_language_are_read(embedder):
    """all-MiniLM-L6-v2 reads English: a Vietnamese question keeps the hand score."""
    from qa.answer.question import analyse
    from qa.answer.scoring import SentenceScorer

    scorer = SentenceScorer(embedder, reader=load_reader())
    texts = ["Hội đồng cảng đã họp vào thứ Hai.", "Hội đồng quyết định đóng cửa cây cầu cũ."]
    q = analyse("Hội đồng cảng quyết định gì về cây cầu cũ?")
    query = embedder.embed_queries([q.text])[0]
    scored = scorer.score(q, query, scorer.candidates(hits_of(texts, 0.8)))
    assert [s.score for s in scorer.read(q, scored)] == [s.score for s in scored]


def test_a_reader_given_in_the_settings_is_loaded_and_a_missing_one_is_named(tmp_path, embedder):
    docs = {"harbour.txt": " ".join(TOPIC_THEN_ANSWER[0][1:])}
    assert make_qa(tmp_path / "default", embedder, docs).reader is load_reader()
    assert make_qa(tmp_path / "off", embedder, docs, reader="off").reader is None
    missing = make_qa(tmp_path / "b", embedder, docs, reader=str(tmp_path / "nowhere.safetensors"))
    missing.build()
    with pytest.raises(QAError, match="nowhere.safetensors"):
        missing.ask(TOPIC_THEN_ANSWER[0][0])
    import torch
    from safetensors.torch import save_file

    save_file({"x.a": torch.zeros(2, 2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(QAError, match="not a reader's adapters file"):
        load_reader(str(tmp_path / "other.safetensors"))


def test_a_distilled_reader_file_loads_as_a_model_cut_to_its_layers(tmp_path):
    """eval/reader/distill.py writes a reader of fewer layers with their count in the file."""
    import torch
    from safetensors.torch import load_file, save_file

    from qa.answer.reader import ADAPTERS, Reader

    state = load_file(str(ADAPTERS))
    kept = {
        k: v
        for k, v in state.items()
        if not k.startswith("bert.encoder.layer.") or int(k.split(".")[3]) < 3
    }
    save_file(kept | {"layers": torch.tensor(3)}, str(tmp_path / "cut.safetensors"))
    cut = Reader(tmp_path / "cut.safetensors")
    assert cut.layers == 3
    question, topic, answer = TOPIC_THEN_ANSWER[1]
    full, short = (
        load_reader().scores(question, [topic, answer]),
        cut.scores(question, [topic, answer]),
    )
    assert short.shape == (2,) and all(abs(a - b) > 1e-3 for a, b in zip(full, short, strict=True))


def test_a_sentence_the_reader_cannot_read_keeps_the_best_reading(embedder):
    """An English question about a text in Vietnamese: reading the English sentences must not
    lift one of them over the Vietnamese sentence, which the reader cannot judge."""
    from dataclasses import replace

    from qa.answer.question import analyse
    from qa.answer.scoring import SentenceScorer

    scorer = SentenceScorer(embedder, reader=load_reader())
    question, topic, answer = TOPIC_THEN_ANSWER[1]
    texts = [topic, answer, "Khoảng 12.000 người đã tham dự lễ hội trong ba ngày."]
    hits = [
        replace(h, passage=replace(h.passage, language=lang))
        for h, lang in zip(hits_of(texts, 0.8), ["en", "en", "vi"], strict=True)
    ]
    q = analyse(question)
    scored = scorer.score(q, embedder.embed_queries([q.text])[0], scorer.candidates(hits))
    added = {s.text: r.score - s.score for s, r in zip(scored, scorer.read(q, scored), strict=True)}
    assert added[answer] > added[topic]  # the English ones were read
    assert added[texts[2]] == pytest.approx(added[answer])


def test_a_sentence_that_points_back_is_read_as_it_would_be_quoted(tmp_path, embedder):
    """Alone, "It defaults to 0.5 units" does not say what defaults; read with the sentence
    before it, as the answer quotes it, it is what the question asks."""
    docs = {
        "filter.txt": "Rounding filter\n\n"
        "The rounding filter runs after calibration and before storage. "
        "The tolerance parameter sets how far the rounding filter may move a value. "
        "It defaults to 0.5 units, which suits most sensor readings. "
        "Readings outside the sensor's range are dropped before the filter sees them.\n"
    }
    qa = make_qa(tmp_path, embedder, docs, reader="on")
    qa.build()
    got = qa.ask("What is the default tolerance of the rounding filter?")
    assert not got.abstained
    assert "It defaults to 0.5 units" in got.citations[0].quote


def test_where_the_cpu_has_bfloat16_the_reader_runs_in_it_and_reads_as_in_float32():
    """bfloat16 is ~1.5x faster on such CPUs; its readings stay close to float32's (on the 752
    held-out questions of eval/reader/heldout.py the reader's choices are the same)."""
    from qa.answer.reader import Reader
    from qa.store.e5_torch import native_bf16

    torch = pytest.importorskip("torch")
    if not native_bf16():
        pytest.skip("this CPU has no native bfloat16: the reader runs in float32")
    assert load_reader().dtype == torch.bfloat16
    exact = Reader(bfloat16=False)
    assert exact.dtype == torch.float32
    for question, topic, answer in TOPIC_THEN_ANSWER:
        fast = load_reader().scores(question, [topic, answer])
        slow = exact.scores(question, [topic, answer])
        assert abs(fast - slow).max() < 0.25
        assert (fast[1] > fast[0]) == (slow[1] > slow[0])


def test_the_readers_own_torch_model_reads_as_transformers_bert_does():
    """The runtime runs BERT's layers itself (no transformers import at start-up); the
    tokens and the logits must be those of transformers' BertForSequenceClassification with
    the same merged weights, which the reader was trained as."""
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file
    from transformers import AutoTokenizer, BertForSequenceClassification

    from qa.answer.reader import ADAPTERS, MAX_TOKENS, Reader, base_model, merged, pairs

    reader = Reader(bfloat16=False)
    bert = BertForSequenceClassification.from_pretrained(base_model(), num_labels=1).eval()
    bert.load_state_dict(merged(bert.state_dict(), load_file(str(ADAPTERS))))
    hf = AutoTokenizer.from_pretrained(base_model())
    for question, topic, answer in TOPIC_THEN_ANSWER:
        texts = [topic, answer, " ".join([answer] * 30)]  # the last is cut to MAX_TOKENS
        ours = pairs(reader.tokenizer, question, texts, MAX_TOKENS)
        theirs = hf(
            [question] * 3,
            texts,
            truncation="only_second",
            max_length=MAX_TOKENS,
            padding=True,
            return_tensors="pt",
        )
        for key in ("input_ids", "token_type_ids", "attention_mask"):
            assert torch.equal(ours[key], theirs[key])
        with torch.inference_mode():
            expected = bert(**theirs).logits.reshape(-1).numpy()
        assert abs(reader.scores(question, texts) - expected).max() < 1e-3


def test_a_question_too_long_for_the_reader_is_cut_not_refused():
    question = "Which supplier did the school choose for its laptops " + "and why " * 80 + "?"
    scores = load_reader().scores(question, ["The school chose Norvell Computing."])
    assert scores.shape == (1,)


def test_the_names_a_sentence_is_read_for_are_looked_for_in_its_quote(embedder):
    """Only sentences that hold the question's key names are read. "It reads tables in the
    Bird format" does not name the Kestrel client; its quote, with the sentence before it,
    does: so it is read (as quoted), not given the mean of the others' readings."""
    from dataclasses import replace

    from qa.answer.question import analyse
    from qa.answer.scoring import W_READER, SentenceScorer
    from qa.ingest.sentences import split_sentences

    text = (
        "The Kestrel client reads its route tables at start-up and again every hour. "
        "The Kestrel client needs a route table to reach its servers. "
        "It reads tables in the Bird format, including comments and include lines. "
        "The Kestrel client logs every failed connection to the system journal."
    )
    (hit,) = hits_of([text], 0.8)
    hit = replace(
        hit, passage=replace(hit.passage, sentences=tuple(split_sentences(text)), language="en")
    )
    scorer = SentenceScorer(embedder, reader=load_reader())
    q = analyse("In which format does the Kestrel client read route tables?")
    scored = scorer.score(q, embedder.embed_queries([q.text])[0], scorer.candidates([hit]))
    read = {s.text: r.score - s.score for s, r in zip(scored, scorer.read(q, scored), strict=True)}
    quote = "The Kestrel client needs a route table to reach its servers. " + (
        "It reads tables in the Bird format, including comments and include lines."
    )
    expected = W_READER * load_reader().scores(q.text, [quote])[0]
    got = read["It reads tables in the Bird format, including comments and include lines."]
    assert got == pytest.approx(expected, abs=1e-3)


def test_a_sentence_whose_passage_names_what_is_asked_is_read_one_from_elsewhere_is_not(
    embedder,
):
    """The answer need not repeat the name the question asks about: "The command of the
    expedition was given to Commodore Porter" stands in a passage about the pirates of
    Cuba, so the English reader reads it. The same words in a passage about another
    harbour are not read (they keep the mean reading of the sentences that name Cuba): the
    reader reads what is said, not of whom."""
    from dataclasses import replace

    from qa.answer.question import analyse
    from qa.answer.scoring import W_READER, SentenceScorer
    from qa.ingest.sentences import split_sentences

    texts = [
        "Pirates around Cuba have troubled our trade in the West Indies for years. "
        "A naval expedition was sent against them in the spring. "
        "The command of the expedition was given to Commodore Porter, who sailed in May.",
        "The harbour of Kestrin was rebuilt after the storm of the previous winter. "
        "The command of the harbour guard was given to Captain Marsh, who arrived in May.",
    ]
    hits = [
        replace(h, passage=replace(h.passage, sentences=tuple(split_sentences(t)), language="en"))
        for h, t in zip(hits_of(texts, 0.8), texts, strict=True)
    ]
    scorer = SentenceScorer(embedder, reader=load_reader())
    q = analyse("Who was given command of the naval expedition against the pirates around Cuba?")
    scored = scorer.score(q, embedder.embed_queries([q.text])[0], scorer.candidates(hits))
    read = {s.text: r.score - s.score for s, r in zip(scored, scorer.read(q, scored), strict=True)}
    porter = "The command of the expedition was given to Commodore Porter, who sailed in May."
    marsh = "The command of the harbour guard was given to Captain Marsh, who arrived in May."
    assert read[porter] == pytest.approx(
        W_READER * load_reader().scores(q.text, [porter])[0], abs=1e-3
    )
    own = W_READER * load_reader().scores(q.text, [marsh])[0]
    assert read[marsh] != pytest.approx(own, abs=1e-3)
    cuba = "Pirates around Cuba have troubled our trade in the West Indies for years."
    assert read[marsh] == pytest.approx(read[cuba], abs=1e-3)  # the one that names Cuba
