"""A Vietnamese question finds an English-only fact, and an English question a Vietnamese-only
one, with the default (multilingual) model on a small corpus written here."""

import json

import pytest

from qa.answer.retrieval import dense_ranking
from qa.api import QA
from qa.store.calibration import similarity_offsets

from conftest import make_qa

DOCS = {
    "budget.txt": (
        "Norway is providing approximately EUR 6.4 billion for the five-year period "
        "2023-2027. The Norwegian parliament approved the programme after a long debate. "
        "Officials said deliveries of air defence systems would start soon."
    ),
    "pilots.txt": (
        "French instructors will train Ukrainian pilots, and the first aircraft are to be "
        "delivered next spring, the defence ministry in Paris said."
    ),
    "fishing.txt": (
        "The fishing fleet of the northern coast landed a record catch of cod this winter. "
        "Prices at the harbour auctions fell because of the large supply."
    ),
    "ky-ket.txt": (
        "Thủ tướng Luxembourg Luc Frieden đã ký thỏa thuận an ninh với Tổng thống Ukraine "
        "hôm 10/7 tại Washington. Hai nhà lãnh đạo đang tham dự hội nghị thượng đỉnh NATO. "
        "Luxembourg sẽ hỗ trợ huấn luyện quân đội Ukraine."
    ),
    "cai-cach.txt": (
        "Chính phủ cam kết tăng cường pháp quyền và cải cách tư pháp trong năm nay. "
        "Các biện pháp mới sẽ được Quốc hội thảo luận vào tháng tới."
    ),
    "thoi-tiet.txt": (
        "Thời tiết ở Hà Nội tuần này nắng nóng, nhiệt độ cao nhất lên tới 38 độ. "
        "Người dân được khuyên hạn chế ra ngoài vào buổi trưa."
    ),
}


@pytest.fixture(scope="module")
def qa(tmp_path_factory, embedder):
    qa = make_qa(tmp_path_factory.mktemp("xl"), embedder, DOCS)
    qa.build()
    return qa


def test_documents_and_passages_carry_their_detected_language(qa):
    langs = {d.doc_id.split("/")[-1]: d.meta.language for d in qa.documents.values()}
    assert langs == {
        "budget.txt": "en",
        "pilots.txt": "en",
        "fishing.txt": "en",
        "ky-ket.txt": "vi",
        "cai-cach.txt": "vi",
        "thoi-tiet.txt": "vi",
    }
    assert {p.language for p in qa.index.passages} == {"en", "vi"}


def test_a_vietnamese_question_is_answered_from_an_english_passage_labelled_english(qa):
    answer = qa.ask("Na Uy cam kết hỗ trợ khoảng bao nhiêu tiền?")
    assert answer.language == "vi" and not answer.abstained
    assert "6.4 billion" in answer.citations[0].quote
    assert answer.citations[0].language == "en"  # shown as written, not translated


def test_an_english_question_is_answered_from_a_vietnamese_passage(qa):
    answer = qa.ask("On what date did Luxembourg's prime minister Frieden sign the agreement?")
    assert answer.language == "en" and not answer.abstained
    assert "10/7" in answer.citations[0].quote and answer.citations[0].language == "vi"
    assert answer.hits[0].passage.doc_id == "corpus/ky-ket.txt"


def test_cosines_across_languages_are_lifted_by_a_calibrated_offset(qa):
    table = qa.index.manifest["calibration"]["offset"]
    assert table["en"]["en"] == table["vi"]["vi"] == 0.0  # a language is its own reference
    assert all(v >= 0.0 for row in table.values() for v in row.values())  # only lifts
    assert 0.0 < similarity_offsets(qa.index.manifest["calibration"], "vi")["en"] < 0.2


def test_dense_candidates_of_both_languages_are_merged_on_the_offset_scale(qa, embedder):
    index = qa.index
    question = "Na Uy cam kết hỗ trợ khoảng bao nhiêu tiền?"
    offsets = similarity_offsets(index.manifest["calibration"], "vi")
    query = embedder.embed_queries([question])[0]
    rows = dense_ranking(index, query, 4, "sentence", None, offsets)
    cosine = dict(index.dense_search(query, len(index.passages), "sentence"))
    lifted = [cosine[r] + offsets[index.passages[r].language] for r in rows]
    assert lifted == sorted(lifted, reverse=True)
    assert {index.passages[r].language for r in rows} == {"en", "vi"}
    assert index.passages[rows[0]].doc_id == "corpus/budget.txt"


def test_a_vietnamese_country_name_finds_the_english_passage_that_names_its_people(qa):
    # "Pháp" is France; the English passage says "French" and never "France", and a
    # Vietnamese passage has the "pháp" of "pháp quyền" (rule of law), which is not it
    answer = qa.ask("Pháp sẽ giúp gì cho Ukraine?")
    assert not answer.abstained
    assert answer.hits[0].passage.doc_id == "corpus/pilots.txt"
    assert "French instructors" in answer.citations[0].quote


def test_an_index_calibrated_before_language_offsets_is_recalibrated_without_embedding(
    tmp_path, embedder
):
    qa = make_qa(tmp_path, embedder, DOCS)
    qa.build()
    manifest = qa.settings.index_dir / qa.index.version / "manifest.json"
    old = json.loads(manifest.read_text())
    for key in ("version", "offset"):  # as an index written before them has it
        del old["calibration"][key]
    manifest.write_text(json.dumps(old))
    again = QA(qa.settings, embedder=embedder)
    assert similarity_offsets(again.index.manifest["calibration"], "vi") == {}
    report = again.ensure_index()
    assert report is not None and report.embedded_passages == 0
    assert similarity_offsets(again.index.manifest["calibration"], "vi")["en"] > 0
    assert again.ensure_index() is None  # now usable as it is


def test_a_how_much_question_about_a_place_is_not_answered_by_another_languages_figure(
    tmp_path, embedder
):
    """The places a question names must be named, in their own language's words, by a
    sentence of another language that answers "how much": Denmark is "Đan Mạch", and a
    Vietnamese sentence about Luxembourg's aid says nothing of Denmark's."""
    docs = {
        "denmark.txt": "Denmark became the latest NATO member to sign a security agreement "
        "with Ukraine on Friday. The ceremony took place in Kyiv.",
        "vien-tro.txt": "Theo Kiev, Luxembourg đã cung cấp viện trợ quân sự cho Ukraine vượt "
        "quá 250 triệu euro. Hai bên sẽ hợp tác trong lĩnh vực an ninh mạng.",
        "fishing.txt": DOCS["fishing.txt"],
        "thoi-tiet.txt": DOCS["thoi-tiet.txt"],
    }
    qa = make_qa(tmp_path, embedder, docs)
    qa.build()
    answer = qa.ask("How much military aid did Denmark commit to Ukraine?")
    assert not any("250" in c.quote for c in answer.citations)
    luxembourg = qa.ask("How much military aid has Luxembourg provided to Ukraine?")
    assert not luxembourg.abstained and "250" in luxembourg.citations[0].quote
    # naming the source's language is not naming a place the source must name
    cited = qa.ask("According to the Vietnamese article, how much aid has Luxembourg given?")
    assert not cited.abstained and "250" in cited.citations[0].quote
