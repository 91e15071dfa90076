"""Properties of cleaning, sentence splitting and chunking on arbitrary text (Hypothesis)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.documents import Document, Metadata
from qa.ingest.chunking import chunk_document
from qa.ingest.cleaning import clean
from qa.ingest.sentences import split_sentences

# Text with the characters extraction produces: letters of several scripts, digits,
# punctuation, spaces, newlines, form feeds, tabs, control characters, combining marks.
ALPHABET = st.one_of(
    st.sampled_from(list("abcXYZ .,;:!?-\n\n\f\t\x00\u00ad\u2003ăđếữ\u0301ﬁ“”’0123456789")),
    st.characters(codec="utf-8"),
)
TEXT = st.text(ALPHABET, max_size=400)


def _doc(raw: str) -> Document:
    c = clean(raw)
    return Document("d", "d", "0", Metadata("d"), c.text, c.page_starts, c.page_labels)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT)
def test_cleaning_never_fails_and_every_character_maps_to_a_raw_position(raw):
    c = clean(raw)
    assert len(c.offsets) == len(c.text)
    assert all(0 <= o < max(1, len(raw)) for o in c.offsets)
    assert c.page_starts[0] == 0 and len(c.page_starts) == len(c.page_labels)


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_sentences_are_disjoint_ordered_trimmed_spans(text):
    spans = split_sentences(text)
    for a, b in spans:
        assert 0 <= a < b <= len(text)
        assert not text[a].isspace() and not text[b - 1].isspace()
    assert all(b1 <= a2 for (_, b1), (a2, _) in zip(spans, spans[1:], strict=False))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT, st.integers(min_value=8, max_value=60), st.integers(min_value=0, max_value=2))
def test_chunks_are_exact_slices_that_lose_no_text(raw, budget, overlap):
    doc = _doc(raw)
    passages = chunk_document(doc, max_tokens=budget, overlap=overlap)
    covered = set()
    for p in passages:
        assert doc.text[p.start : p.end] == p.text
        for a, b in p.sentences:
            assert 0 <= a < b <= len(p.text)
        covered.update(range(p.start, p.end))
        assert doc.page_at(p.start) == p.page_start
    # every non-space character of the document is in some passage
    assert all(i in covered for i, ch in enumerate(doc.text) if not ch.isspace())
    # passages move forward: no passage starts before the previous one
    assert all(b.start > a.start for a, b in zip(passages, passages[1:], strict=False))


LOADABLE = ["x.txt", "x.md", "x.html", "x.pdf"]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    name=st.sampled_from(LOADABLE),
    data=st.one_of(
        st.binary(max_size=600),
        st.text(ALPHABET, max_size=400).map(lambda t: t.encode("utf-8")),
        st.text(ALPHABET, max_size=200).map(lambda t: t.encode("utf-16")),
        st.text(st.characters(max_codepoint=255), max_size=200).map(
            lambda t: t.encode("cp1252", errors="replace")
        ),
        st.binary(max_size=400).map(lambda b: b"%PDF-1.4\n" + b),
    ),
)
def test_loading_arbitrary_bytes_gives_text_or_a_document_error_never_a_crash(tmp_path, name, data):
    from qa.errors import DocumentError
    from qa.ingest.pipeline import read_document

    path = tmp_path / name
    path.write_bytes(data)
    try:
        doc = read_document(path, name)
    except DocumentError as exc:
        assert name in str(exc)  # the message names the file
    else:
        assert doc.text.strip() and doc.page_starts[0] == 0
