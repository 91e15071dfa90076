"""Place names carried across languages (qa/answer/places.py), and how sentence scoring counts them."""

from qa.answer.places import place_forms, places_in
from qa.answer.scoring import QuestionTerms
from qa.text import content_terms


def elsewhere(question, language, languages=("en", "vi")):
    return {p.written: p.elsewhere for p in places_in(question, language, languages)}


def test_a_vietnamese_country_name_gets_its_english_name_and_adjective():
    assert elsewhere("Pháp chú trọng hỗ trợ gì?", "vi") == {"Pháp": ("France", "French")}


def test_longer_names_match_in_any_case_and_come_in_question_order():
    found = places_in("Thụy Điển và Na Uy cam kết gì cho an ninh châu Âu?", "vi", ["en", "vi"])
    assert [(p.written, p.elsewhere) for p in found] == [
        ("Thụy Điển", ("Sweden", "Swedish")),
        ("Na Uy", ("Norway", "Norwegian")),
        ("châu Âu", ("Europe",)),
    ]


def test_a_one_word_name_needs_its_capital():
    # "pháp" in "biện pháp" (measure) and "pháp quyền" (rule of law) is not France
    assert elsewhere("Biện pháp bảo vệ pháp quyền là gì?", "vi") == {}


def test_an_english_name_gets_the_vietnamese_one():
    assert elsewhere("What did Sweden pledge?", "en") == {"Sweden": ("Thụy Điển",)}


def test_nothing_is_carried_over_without_another_language_or_a_known_one():
    assert elsewhere("What did Sweden pledge?", "en", ["en"]) == {}
    assert elsewhere("Luxembourg signed", "en") == {}  # written alike in Vietnamese
    assert places_in("Sweden", "und", ["en", "vi"]) == []


def test_adjectives_only_for_a_country_whose_language_is_first_its_own():
    en = place_forms("en")
    assert en["FR"] == ("France", "French")
    assert en["BE"] == ("Belgium",)  # Dutch and French belong first to other countries
    assert en["CA"] == ("Canada",)


def test_a_sentence_naming_the_place_in_another_language_covers_the_question_name():
    question = "Pháp chú trọng vào loại hỗ trợ quân sự nào?"
    (place,) = places_in(question, "vi", ["en", "vi"])
    terms = QuestionTerms(
        weights={t: 1.0 for t in content_terms(question)},
        groups=[],
        names={"pháp"},
        aliases=((frozenset({"pháp"}), tuple(map(content_terms, place.elsewhere))),),
    )
    assert "pháp" in terms.found_in("Italians with artillery, and French with aircraft.")
    assert "pháp" in terms.found_in("Germany and France signed agreements.")
    assert "pháp" not in terms.found_in("Mục tiêu là bảo đảm pháp quyền và tự do.")
