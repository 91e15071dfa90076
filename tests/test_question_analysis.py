"""How questions are read: parts, coordinated names, the kind of answer they ask for."""

import pytest

from qa.answer.figures import figures, has_answer_kind
from qa.answer.question import coordinated_names, expected_answer_kind, split_question


def test_a_question_that_asks_two_things_is_split_at_the_second_question_word():
    q = "How many agreements did DW count, and how many states does the report name?"
    assert split_question(q) == [
        "How many agreements did DW count",
        "how many states does the report name?",
    ]


def test_a_question_word_after_its_preposition_starts_a_part():
    q = "Which module finds the language, and under which licence is that module released?"
    assert split_question(q) == [
        "Which module finds the language",
        "under which licence is that module released?",
    ]


def test_a_statement_before_the_question_word_belongs_to_its_part():
    q = "Posting on the forum brought few replies; which channel worked better?"
    assert split_question(q) == [q]
    q = "Two states planned to sign; which were they, and by what date had all signed?"
    assert split_question(q) == [
        "Two states planned to sign; which were they",
        "by what date had all signed?",
    ]


def test_a_part_that_leans_on_the_one_before_keeps_the_question_whole():
    """ "..., and in which year?" or "..., and where is it spoken?" has no subject of its own:
    asked alone, it would be answered by any year or any place."""
    for q in (
        "Who founded the Kessling ferry company, and in which year?",
        "Besides Tonga, which other language is called Tonga, and where is it spoken?",
    ):
        assert split_question(q) == [q]


def test_a_single_question_with_and_stays_whole():
    q = "What did Sweden and Norway pledge?"
    assert split_question(q) == [q]


def test_names_joined_by_and_form_one_group():
    assert coordinated_names("What did Sweden and Norway pledge?") == [{"sweden", "norway"}]
    assert coordinated_names("Ukraine và Estonia ký khi nào?") == [{"ukrain", "estonia"}]


@pytest.mark.parametrize(
    "question, kind",
    [
        ("How much did Norway pledge?", "quantity"),
        ("What share of the budget goes to defence?", "quantity"),
        ("Which value of the header field marks a text file?", "quantity"),
        ("Which countries value a strong navy?", None),
        ("What phone number takes the orders?", "quantity"),
        ("Which minimum version of the library is needed?", "quantity"),
        ("What is the age limit for pilots?", "quantity"),
        ("What was the size of the package?", "quantity"),
        ("Which members' agreements share an identical pledge?", None),
        ("What does the number printed on the card mean?", None),
        ("What is the default value of the setting?", None),
        ("Na Uy cam kết bao nhiêu tiền?", "quantity"),
        ("Giá vé tàu là bao nhiêu?", "quantity"),
        ("How many tanks did Luxembourg send?", "count"),
        ("How long does the form take to complete?", "duration"),
        ("How quickly can consultations be convened?", "duration"),
        ("How old must a Senator be?", "duration"),
        ("Luxembourg gửi bao nhiêu xe tăng?", "count"),
        ("When was the compact presented?", "date"),
        ("On what date did they sign?", "date"),
        ("Văn kiện được công bố vào thời điểm nào?", "date"),
        ("Who signed for Luxembourg?", None),
        ("How much was pledged, and when was it signed?", "date"),
        ("Since when has Norway given aid?", "date"),
        ("What happens to a server when a handler raises an exception?", None),
        ("Who presides over the Senate when it tries an impeachment?", None),
        ("When apps are merged, which of them receives the shared library?", None),
        ("When the lease ends, how much of the deposit is returned?", "quantity"),
        ("When, in 2024, did they sign?", "date"),
        ("What was the release date of version 2.1?", "date"),
        ("What is the closing day for applications?", "date"),
        ("What was the year the tax was repealed?", "date"),
        ("What is the date format of the log?", None),
        ("What is the day-to-day role of the clerk?", None),
    ],
)
def test_the_kind_of_answer_a_question_asks_for(question, kind):
    assert expected_answer_kind(question) == kind


def test_a_quantity_answer_needs_a_figure_that_the_question_does_not_already_give():
    known = figures("How much did Denmark commit under its 10-year agreement?")
    assert not has_answer_kind("Denmark signed a 10-year agreement in 2024.", "quantity", known)
    assert has_answer_kind("Denmark committed EUR 1.8 billion.", "quantity", known)
    assert not has_answer_kind("It was signed on 13th June 2024.", "quantity")
    assert has_answer_kind("In this workflow we use four models, two of them new.", "quantity")
    assert not has_answer_kind("This is one of the widgets.", "quantity")
    assert not has_answer_kind("On the eve of the two-year anniversary it was signed.", "quantity")


def test_a_date_answer_needs_a_date_and_words_that_start_like_months_are_not_dates():
    assert has_answer_kind("It was signed on 12 July.", "date")
    assert has_answer_kind("Signed in May 2024.", "date")
    assert has_answer_kind("Hai bên ký hôm 10/7 tại Washington.", "date")
    for sentence in (
        "More than 10 countries may begin negotiations in the near future.",
        "The declaration calls for a decision on the market.",
        "The octet mode sends eight-bit bytes.",
    ):
        assert not has_answer_kind(sentence, "date")
    # and a count of decisions or octets is a figure, not a day of a month
    assert has_answer_kind("The court made 12 decisions.", "quantity")


def test_how_long_is_answered_by_a_figure_with_a_unit_of_time_or_length_or_size():
    assert has_answer_kind("We estimate it takes about 5 minutes to complete.", "duration")
    assert has_answer_kind("Consultations are convened within 24 hours.", "duration")
    assert has_answer_kind("He must have been nine Years a Citizen.", "duration")
    assert has_answer_kind("Put it back within 10-14 business days.", "duration")
    assert has_answer_kind("It lasts three calendar months.", "duration")
    # the length of a text or of data: "How long must the key be?"
    assert has_answer_kind("The key is a string of 16 characters.", "duration")
    assert has_answer_kind("Blocks hold at most 512 octets.", "duration")
    assert not has_answer_kind("It has 2 main modes of transfer.", "duration")
    assert not has_answer_kind("See 38 U.S.C. 5101 for the rules.", "duration")
    assert not has_answer_kind("It takes 5 minutes.", "duration", {"5"})  # the question's own


def test_a_sum_of_money_or_a_share_does_not_say_how_many():
    aid = "Luxembourg has provided military aid exceeding €250 million ($270.74 million)."
    assert has_answer_kind(aid, "quantity") and not has_answer_kind(aid, "count")
    assert not has_answer_kind("Turnout rose to 45% in 2024.", "count")
    assert has_answer_kind("It sent 12 tanks worth €250 million.", "count")
    assert has_answer_kind("They sent seven tanks.", "count")
    assert has_answer_kind("Blocks of 512 octets are sent.", "quantity")


def test_a_web_address_gives_no_figure_nor_date():
    """A link's target is no figure the text gives: with Markdown quoted as written, "... whether
    pip [should install packages with conflicting dependencies](https://github.com/pypa/pip/issues/8452)"
    answered "How many responses did the survey receive?" with the issue's number."""
    linked = (
        "The process was followed in 2020, when we asked whether pip [should install "
        "conflicting packages](https://github.com/pypa/pip/issues/8452)."
    )
    assert not has_answer_kind(linked.replace("in 2020, ", ""), "count")
    assert not has_answer_kind("Read https://example.org/2024/report-12.pdf first.", "date")
    assert figures("See www.example.org/v3 or the 6.5 billion [pledge](http://x.org/7).") == {"6.5"}
    assert has_answer_kind("In total 1,200 people answered (https://example.org/s/9).", "count")


def test_the_parts_of_a_question_are_kept_as_written():
    assert split_question("What did Sweden pledge, and what did Norway pledge?") == [
        "What did Sweden pledge",
        "what did Norway pledge?",
    ]


def test_a_long_run_of_figures_with_no_unit_is_judged_without_hanging():
    """A sentence carrying a long run of figures (a serial number, a table flattened into
    "1.2.3...") is read for "how long" in time linear in its length: the figure with a unit
    was once tried from every digit of the run, and such a sentence took minutes."""
    from conftest import run_in_time

    code = (
        "from qa.answer.figures import has_answer_kind\n"
        "n = 50_000\n"
        "print(has_answer_kind('Serial ' + '7' * n + ' here.', 'duration'),\n"
        "      has_answer_kind('Table ' + '1.' * n + ' here.', 'duration'),\n"
        "      has_answer_kind('Table ' + '1.' * n + ' 5 days.', 'duration'))"
    )
    out = run_in_time(code)
    assert out.split() == ["False", "False", "True"]


def test_the_digits_inside_a_name_are_no_figure_the_question_gives():
    """A question about the secp256k1 curve names no figure "56" that a passage must
    mention before it can be answered."""
    assert figures("Who added the secp256k1 curve and the Ed25519 keys?") == set()
    assert figures("Is SHA256 used in release 0.19.0 of 2024?") == {"0.19.0", "2024"}
