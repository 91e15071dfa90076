"""The library behind the app: filters applied to retrieval, uploads, removal."""

from __future__ import annotations

from dataclasses import replace

import pytest

from qa.api import QA
from qa.errors import BadQuestion, DocumentError, QAError, UnsupportedFile
from qa.filters import Filters
from qa.library import safe_name

from conftest import make_qa, write_pdf

DOCS = {
    "alpha.md": "# Alpha Gazette report\n\nSweden pledged EUR 6.5 billion to Ukraine for 2024 "
    "to 2026. The agreement was signed in Stockholm.",
    "beta.md": "# Beta Herald report\n\nSweden pledged EUR 7 billion to Ukraine, according to "
    "a later estimate. Talks continued in Kyiv.",
    "gamma.md": "# Gamma notes\n\nNorway is providing EUR 6.4 billion over five years.",
}
META = {
    "alpha.meta.json": '{"title": "Alpha", "publisher": "Gazette", "date": "2024-02-10", '
    '"language": "en"}',
    "beta.meta.json": '{"title": "Beta", "publisher": "Herald", "date": "2024-07", '
    '"language": "en"}',
}


@pytest.fixture(scope="module")
def three_docs(tmp_path_factory, embedder):
    qa = make_qa(tmp_path_factory.mktemp("filters"), embedder, {**DOCS, **META})
    qa.build()
    return qa


def cited_documents(answer) -> set[str]:
    return {c.document for c in answer.citations} | {h.passage.doc_id for h in answer.hits}


def test_a_document_filter_restricts_retrieval_to_that_document(three_docs):
    only_beta = Filters.of(documents=["corpus/beta.md"])
    answer = three_docs.ask("How much did Sweden pledge?", filters=only_beta)
    assert cited_documents(answer) == {"corpus/beta.md"}
    assert "7 billion" in answer.answer
    assert answer.to_dict()["filters"]["documents"] == ["corpus/beta.md"]


def test_without_filters_every_document_can_be_retrieved(three_docs):
    answer = three_docs.ask("How much did Sweden pledge?", k=5)
    assert {"corpus/alpha.md", "corpus/beta.md"} <= cited_documents(answer)
    assert answer.filters is None


@pytest.mark.parametrize(
    "filters, expected",
    [
        (Filters.of(publishers=["Gazette"]), {"corpus/alpha.md"}),
        (Filters.of(date_from="2024-06"), {"corpus/beta.md"}),
        (Filters.of(date_to="2024-03"), {"corpus/alpha.md"}),
        (Filters.of(date_from="2024", date_to="2024"), {"corpus/alpha.md", "corpus/beta.md"}),
    ],
)
def test_publisher_and_date_filters_select_documents(three_docs, filters, expected):
    answer = three_docs.ask("How much did Sweden pledge?", k=5, filters=filters)
    assert cited_documents(answer) == expected


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Filters.of(documents=["corpus/nope.md"]), "No document"),
        (lambda: Filters.of(languages=["vi"]), "No indexed document matches"),
        (lambda: Filters.of(date_from="July 2024"), "not a date"),
        (lambda: Filters.of(date_from="2025", date_to="2024"), "empty"),
    ],
)
def test_impossible_filters_are_refused_with_a_message(three_docs, make, message):
    with pytest.raises(BadQuestion, match=message):
        three_docs.ask("How much did Sweden pledge?", filters=make())


def test_filters_describe_themselves_with_titles(three_docs):
    f = Filters.of(documents=["corpus/alpha.md"], languages=["en"], date_from="2024")
    text = f.describe({d: doc.meta.title for d, doc in three_docs.documents.items()})
    assert "Alpha" in text and "English" in text and "2024 or later" in text


def test_library_lists_documents_with_counts(three_docs):
    rows = {r.doc_id: r for r in three_docs.library()}
    assert set(rows) == {"corpus/alpha.md", "corpus/beta.md", "corpus/gamma.md"}
    assert rows["corpus/alpha.md"].publisher == "Gazette"
    assert rows["corpus/alpha.md"].passages >= 1
    assert rows["corpus/alpha.md"].pages == 0  # a Markdown file has no pages
    assert not rows["corpus/alpha.md"].uploaded


@pytest.mark.parametrize(
    "original, expected",
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\boot.ini.TXT", "boot.ini.txt"),
        ("Báo cáo an ninh 2024.pdf", "Báo-cáo-an-ninh-2024.pdf"),
        ("<script>alert(1)</script>.md", "script.md"),
        ("<i>draft</i>.md", "i.md"),
        ("...", "document"),
        ("a\x00b.txt", "ab.txt"),
    ],
)
def test_upload_names_are_made_safe(original, expected):
    assert safe_name(original) == expected


def test_an_uploaded_pdf_is_indexed_and_answerable(tmp_path, embedder):
    qa = make_qa(tmp_path / "p", embedder, {"a.md": "Denmark signed a ten-year agreement."})
    qa.build()
    pdf = write_pdf(
        tmp_path / "upload.pdf",
        [
            "Intro page.",
            "The Zorblat accord was signed in Reykjavik on 3 March 2024 by twelve delegations.",
        ],
    )
    report = qa.add_upload(pdf, "../Zorblat brief.pdf")
    assert report.added == ["corpus/uploads/Zorblat-brief.pdf"]
    assert (tmp_path / "p/corpus/uploads/Zorblat-brief.pdf").is_file()
    answer = qa.ask("Where was the Zorblat accord signed?")
    assert answer.citations and answer.citations[0].page == 2
    assert "Reykjavik" in answer.answer
    assert {r.doc_id: r for r in qa.library()}["corpus/uploads/Zorblat-brief.pdf"].uploaded


@pytest.fixture(scope="module")
def small(tmp_path_factory, embedder):
    """A one-document project for the upload tests that leave it unchanged."""
    qa = make_qa(tmp_path_factory.mktemp("small"), embedder, {"a.md": "Denmark signed."})
    qa.build()
    return qa


@pytest.mark.parametrize(
    "name, content, error, message",
    [
        ("notes.exe", b"MZ\x90\x00", UnsupportedFile, "not supported"),
        ("empty.txt", b"", DocumentError, "empty"),
        ("broken.pdf", b"%PDF-1.4 garbage", DocumentError, "broken.pdf"),
        ("binary.txt", bytes(range(256)) * 20, DocumentError, "binary.txt"),
    ],
)
def test_a_failed_upload_changes_nothing(small, tmp_path, name, content, error, message):
    qa = small
    version = qa.index.version
    src = tmp_path / "src"
    src.write_bytes(content)
    with pytest.raises(error, match=message) as raised:
        qa.add_upload(src, name)
    assert str(raised.value).startswith(f"{name}: ")  # the user's file, named once
    assert ".incoming" not in str(raised.value)  # never the staging name
    assert qa.index.version == version
    uploads = qa.settings.uploads
    assert not uploads.exists() or not any(uploads.iterdir())


def test_an_upload_over_the_size_limit_is_refused(small, tmp_path):
    qa = QA(replace(small.settings, max_file_mb=0.001), embedder=small.embedder)
    src = tmp_path / "big.txt"
    src.write_text("word " * 1000)
    with pytest.raises(DocumentError, match="over the upload limit"):
        qa.add_upload(src, "big.txt")


def test_an_uploads_edited_details_are_indexed_and_cited(tmp_path, embedder):
    qa = make_qa(tmp_path / "p", embedder, {"a.md": "Denmark signed."})
    qa.build()
    src = tmp_path / "n.txt"
    src.write_text("Finland pledged artillery ammunition to Ukraine in 2024.")
    doc_id = qa.add_upload(src, "n.txt").added[0]
    qa.edit_metadata(
        doc_id, title="Finnish aid", publisher="Yle", date="2024-03", url="https://yle.fi/a"
    )
    (row,) = [r for r in qa.library() if r.doc_id == doc_id]
    assert (row.title, row.publisher, row.date, row.url) == (
        "Finnish aid",
        "Yle",
        "2024-03",
        "https://yle.fi/a",
    )
    citation = qa.ask("What did Finland pledge to Ukraine?").citations[0]
    assert (citation.title, citation.publisher, citation.date) == ("Finnish aid", "Yle", "2024-03")
    sidecar = qa.settings.uploads / "n.meta.json"
    assert sidecar.exists()  # kept beside the upload: a rebuild keeps the details
    qa.remove(doc_id)
    assert not sidecar.exists()


@pytest.mark.parametrize(
    "doc_id, fields, message",
    [
        ("corpus/a.md", {"title": "A"}, "only uploaded documents"),
        ("corpus/none.md", {"title": "A"}, "No document"),
        ("UPLOAD", {"title": " "}, "a title is needed"),
        ("UPLOAD", {"title": "A", "date": "July 2024"}, "YYYY-MM-DD"),
        ("UPLOAD", {"title": "A", "url": "yle.fi"}, "https://"),
    ],
)
def test_bad_details_are_refused_with_what_to_write(tmp_path, embedder, doc_id, fields, message):
    qa = make_qa(tmp_path / "p", embedder, {"a.md": "Denmark signed."})
    qa.build()
    src = tmp_path / "n.txt"
    src.write_text("Finland pledged artillery ammunition to Ukraine in 2024.")
    upload = qa.add_upload(src, "n.txt").added[0]
    version = qa.index.version
    with pytest.raises(DocumentError, match=message):
        qa.edit_metadata(upload if doc_id == "UPLOAD" else doc_id, **fields)
    assert qa.index.version == version


def test_the_same_file_uploaded_twice_is_refused(tmp_path, embedder):
    qa = make_qa(tmp_path / "p", embedder, {"a.md": "Denmark signed."})
    qa.build()
    src = tmp_path / "n.txt"
    src.write_text("Finland pledged artillery ammunition in 2024.")
    qa.add_upload(src, "n.txt")
    with pytest.raises(DocumentError, match="already indexed"):
        qa.add_upload(src, "copy.txt")


def test_removing_documents_updates_the_index_without_reembedding(tmp_path, embedder):
    from conftest import CountingEmbedder

    counting = CountingEmbedder(embedder)
    qa = make_qa(tmp_path / "p", counting, dict(DOCS))
    qa.build()
    src = tmp_path / "n.txt"
    src.write_text("Finland pledged artillery ammunition in 2024.")
    qa.add_upload(src, "n.txt")
    counting.embedded.clear()
    qa.remove("corpus/uploads/n.txt")
    qa.remove("corpus/gamma.md")
    assert counting.embedded == []
    assert set(qa.documents) == {"corpus/alpha.md", "corpus/beta.md"}
    assert not (tmp_path / "p/corpus/uploads/n.txt").exists()  # uploads are deleted
    assert (tmp_path / "p/corpus/.removed/gamma.md").is_file()  # corpus files are kept aside
    qa.build()  # a later `qa index` does not bring the removed document back
    assert "corpus/gamma.md" not in qa.documents
    with pytest.raises(QAError, match="No document"):
        qa.remove("corpus/gamma.md")
