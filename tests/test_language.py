"""Language by script, and tokenisation that works for Vietnamese as well as English."""

import pytest

from qa.ingest.language import detect_language
from qa.store.lexical import tokenize


@pytest.mark.parametrize(
    "text, lang",
    [
        ("Ai là người ký thỏa thuận?", "vi"),
        ("Na Uy cam kết hỗ trợ Ukraine khoảng bao nhiêu tiền trong giai đoạn 2023–2027?", "vi"),
        (
            "Thoả thuận được ký bởi Tổng thống Ukraine Volodymyr Zelensky với Thủ tướng "
            "Luxembourg Luc Frieden hôm 10/7 tại Mỹ, nơi 2 nhà lãnh đạo đang tham dự hội nghị "
            "thượng đỉnh NATO.",
            "vi",
        ),
        ("Who signed for Luxembourg?", "en"),
        ("The minister visited the café in Zürich and São Paulo.", "en"),
        ("Віра Перун, «32 держави приєдналися до декларації G7»", "uk"),
        ("!!!", "und"),
    ],
)
def test_language_is_told_from_short_and_long_texts(text, lang):
    assert detect_language(text) == lang


def test_vietnamese_is_tokenised_by_syllable_with_and_without_diacritics():
    assert tokenize("Thỏa thuận an ninh của Ukraine và Luxembourg") == [
        "thỏa",
        "thoa",
        "thuận",
        "thuan",
        "an",
        "ninh",
        "ukrain",
        "luxembourg",
    ]


def test_a_vietnamese_question_typed_without_diacritics_still_matches_lexically():
    from qa.store.lexical import LexicalIndex

    index = LexicalIndex.build(["Thủ tướng Luxembourg đã ký thỏa thuận an ninh.", "Trời nắng."])
    assert index.search("ky thoa thuan an ninh", 2)[0][0] == 0


def test_english_tokens_are_stemmed_and_stopwords_dropped():
    assert tokenize("The agreements pledged support") == ["agreement", "pledg", "support"]
