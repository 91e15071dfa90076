"""Loaders turn real files into text with pages, and refuse bad files with a clear message."""

from pathlib import Path

import pytest

from qa.errors import EmptyDocument, UnreadableFile, UnsupportedFile
from qa.ingest.chunking import chunk_document
from qa.ingest.loaders import load
from qa.ingest.pipeline import discover, read_document

from conftest import write_pdf


def test_pdf_pages_are_kept_and_every_passage_knows_its_page(tmp_path):
    pages = [
        "Page one is about the Kyiv Security Compact of September 2022.",
        "Page two says Sweden pledged EUR 6.5 billion over 2024-2026.",
        "Page three says Norway is providing EUR 6.4 billion over 2023-2027.",
    ]
    pdf = write_pdf(tmp_path / "report.pdf", pages, title="A Test Report")
    doc = read_document(pdf, "report.pdf")
    assert doc.meta.title == "A Test Report"
    for n, marker in enumerate(
        ["Kyiv Security Compact", "Sweden pledged", "Norway is providing"], 1
    ):
        assert doc.page_at(doc.text.index(marker)) == n


def test_printed_page_numbers_and_running_headers_of_a_pdf_are_not_in_the_text(tmp_path):
    pages = [f"Body text of page {n} about security agreements." for n in range(1, 5)]
    pdf = write_pdf(tmp_path / "h.pdf", pages, header="Quarterly Security Review")
    doc = read_document(pdf, "h.pdf")
    assert "Quarterly Security Review" not in doc.text
    assert [doc.page_at(doc.text.index(f"page {n} about")) for n in range(1, 5)] == [1, 2, 3, 4]


def _zero_page_pdf(path: Path) -> Path:
    from pypdf import PdfWriter

    with path.open("wb") as f:
        PdfWriter().write(f)
    return path


def _image_only_pdf(path: Path) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")
    pdf.output(str(path))
    return path


@pytest.mark.parametrize(
    "name, make, error, words",
    [
        ("empty.txt", lambda p: p.write_bytes(b""), EmptyDocument, "empty"),
        ("blank.md", lambda p: p.write_text("   \n\n  "), EmptyDocument, "empty"),
        (
            "sheet.xlsx",
            lambda p: p.write_bytes(b"PK\x03\x04data"),
            UnsupportedFile,
            "not supported",
        ),
        ("binary.txt", lambda p: p.write_bytes(bytes(range(256)) * 8), UnreadableFile, "binary"),
        (
            "corrupt.pdf",
            lambda p: p.write_bytes(b"%PDF-1.7\n1 0 obj garbage"),
            UnreadableFile,
            "damaged",
        ),
        ("fake.pdf", lambda p: p.write_text("just text"), UnreadableFile, "not a PDF"),
        (
            "locked.pdf",
            lambda p: write_pdf(p, ["secret text"], password="pw"),
            UnreadableFile,
            "password",
        ),
        ("scan.pdf", _image_only_pdf, EmptyDocument, "OCR"),
        ("nothing.pdf", _zero_page_pdf, EmptyDocument, "no pages"),
    ],
)
def test_bad_files_are_refused_with_a_message_that_says_what_to_do(
    tmp_path, name, make, error, words
):
    path = tmp_path / name
    make(path)
    with pytest.raises(error) as info:
        read_document(path, name)
    assert name in str(info.value) and words in str(info.value)


def test_truncated_pdf_is_refused_as_damaged(tmp_path):
    good = write_pdf(tmp_path / "good.pdf", ["Some text on a page."] * 3)
    bad = tmp_path / "truncated.pdf"
    bad.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 3])
    with pytest.raises((UnreadableFile, EmptyDocument)) as info:
        read_document(bad, "truncated.pdf")
    assert "truncated.pdf" in str(info.value)


def test_pdf_with_an_empty_user_password_opens(tmp_path):
    pdf = write_pdf(tmp_path / "open.pdf", ["Readable without a password."], password="")
    assert "Readable without a password." in read_document(pdf, "open.pdf").text


def test_text_encodings_are_detected_and_reported(tmp_path):
    (tmp_path / "bom.txt").write_bytes("\ufeffKyiv signed the agreement.".encode("utf-8"))
    (tmp_path / "u16.txt").write_text("Thỏa thuận an ninh song phương.", encoding="utf-16")
    (tmp_path / "win.txt").write_bytes(
        "The minister’s “security” pledge – café crème déjà vu – was signed.".encode("cp1252")
    )
    assert load(tmp_path / "bom.txt").text == "Kyiv signed the agreement."
    assert load(tmp_path / "u16.txt").text == "Thỏa thuận an ninh song phương."
    win = load(tmp_path / "win.txt")
    assert "“security”" in win.text and "déjà vu" in win.text
    assert win.encoding and win.encoding.lower().replace("_", "") in {"cp1252", "windows1252"}


def test_html_loses_scripts_and_markup_but_keeps_title_and_text(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        "<html lang='en'><head><title>Pact signed</title><script>alert('x')</script></head>"
        "<body><h1>Pact</h1><p>Denmark signed &amp; Italy plans to.</p></body></html>"
    )
    doc = read_document(page, "page.html")
    assert doc.meta.title == "Pact signed" and doc.meta.language == "en"
    assert "alert" not in doc.text and "Denmark signed & Italy plans to." in doc.text


def test_markdown_is_quoted_as_written_and_the_title_comes_from_the_heading(tmp_path):
    """Markdown is written to be read as it is: a sentence keeps its links and emphasis, so
    that its quote is found in the file (gold quotes from Markdown files carry them); an
    image is its alt text, a heading's marks are not text."""
    md = tmp_path / "note.md"
    md.write_text(
        "# Briefing note\n\nSee [the DW article](https://dw.com/x) on **21** agreements.\n\n"
        "![Map of the signatories](img/map.png)\n"
    )
    doc = read_document(md, "note.md")
    assert doc.meta.title == "Briefing note"
    assert "See [the DW article](https://dw.com/x) on **21** agreements." in doc.text
    assert "Map of the signatories" in doc.text and "img/map.png" not in doc.text
    assert "#" not in doc.text


def test_markdown_front_matter_gives_title_date_and_authors_and_its_settings_are_not_text(
    tmp_path,
):
    """A JOSS paper, a Jekyll or Hugo page: the front matter's title is the document's (not
    its first heading, "Summary"), its date is the document's date, and its title, authors
    and date are read at the top of the text; keys, ORCIDs and build settings are not."""
    md = tmp_path / "paper.md"
    md.write_text(
        "---\n"
        "title: 'schwimmbad: A uniform interface to parallel processing pools in Python'\n"
        "tags:\n  - Python\n"
        "authors:\n"
        "  - name: Adrian M. Price-Whelan\n    orcid: 0000-0003-0872-7098\n    affiliation: 1\n"
        "  - name: Daniel Foreman-Mackey\n    affiliation: 2\n"
        "affiliations:\n - name: Princeton University\n   index: 1\n"
        "date: 11 August 2017\n"
        "bibliography: paper.bib\n"
        "---\n\n# Summary\n\nMany problems are perfectly parallel.\n"
    )
    doc = read_document(md, "paper.md")
    assert doc.meta.title == (
        "schwimmbad: A uniform interface to parallel processing pools in Python"
    )
    assert doc.meta.date == "2017-08-11"
    assert "Adrian M. Price-Whelan, Daniel Foreman-Mackey" in doc.text
    assert "Princeton University" in doc.text and "11 August 2017" in doc.text
    assert "Many problems are perfectly parallel." in doc.text
    assert "orcid" not in doc.text and "0000-0003" not in doc.text and "paper.bib" not in doc.text


def test_markdown_front_matter_that_is_not_yaml_is_dropped_and_the_heading_titles(tmp_path):
    md = tmp_path / "note.md"
    md.write_text("---\n: [unclosed\n---\n# Briefing note\n\nDenmark signed in February.\n")
    doc = read_document(md, "note.md")
    assert doc.meta.title == "Briefing note" and "unclosed" not in doc.text
    assert "Denmark signed in February." in doc.text


def test_inline_html_in_markdown_keeps_its_words_and_code_keeps_its_tags(tmp_path):
    md = tmp_path / "guide.md"
    md.write_text(
        '<p align="center"><img src="logo.png" alt="logo"></p>\n\n'
        'There are <a href="https://example.org/q">four types</a> of questions.<br>'
        "<em>Descriptive</em> questions ask for stories. <!-- draft -->\n\n"
        "Write `<br>` for a break; List<String> stays.\n\n"
        "```html\n<div>kept</div>\n```\n"
    )
    text = read_document(md, "guide.md").text
    assert "There are four types of questions.\nDescriptive questions ask for stories." in text
    assert "<a " not in text and "<img" not in text and "draft" not in text
    assert "`<br>`" in text and "List<String>" in text and "<div>kept</div>" in text


def test_permalink_marks_after_html_headings_are_not_text(tmp_path):
    page = tmp_path / "doc.html"
    page.write_text(
        '<html><body><h2>Collision detection<a class="headerlink" href="#c">¶</a></h2>'
        "<p>Use a rectangle a little smaller than the sprite.</p></body></html>"
    )
    text = read_document(page, "doc.html").text
    assert "¶" not in text and "Collision detection" in text


def test_sidecar_metadata_wins_and_a_file_without_one_gets_a_title_from_its_name(tmp_path):
    (tmp_path / "my_report-2024.txt").write_text("Text of the report.")
    (tmp_path / "other.txt").write_text("Other text.")
    (tmp_path / "other.meta.json").write_text(
        '{"title": "Other", "publisher": "DW", "date": "2024-07"}'
    )
    assert read_document(tmp_path / "my_report-2024.txt", "a").meta.title == "My report 2024"
    meta = read_document(tmp_path / "other.txt", "b").meta
    assert (meta.title, meta.publisher, meta.date) == ("Other", "DW", "2024-07")


def test_discover_skips_unsupported_files_with_a_reason_and_ignores_sidecars(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "a.meta.json").write_text("{}")
    (tmp_path / "b.docx").write_bytes(b"x")
    (tmp_path / ".hidden.txt").write_text("x")
    found, skipped = discover([tmp_path, tmp_path / "missing"])
    assert [p.name for p in found] == ["a.txt"]
    reasons = {Path(s.path).name: s.reason for s in skipped}
    assert "unsupported file type .docx" in reasons["b.docx"]
    assert reasons["missing"] == "no such file or folder"


def test_pdfs_over_the_page_limit_and_files_over_the_size_limit_are_refused(tmp_path):
    from qa.errors import DocumentError

    pdf = write_pdf(tmp_path / "long.pdf", ["one", "two", "three"])
    with pytest.raises(
        UnreadableFile, match="3 pages is more than the limit of 2.*QA_MAX_PDF_PAGES"
    ):
        read_document(pdf, "long.pdf", max_pdf_pages=2)
    big = tmp_path / "big.txt"
    big.write_text("word " * 300_000)
    with pytest.raises(DocumentError, match="over the limit of 1 MB.*QA_MAX_FILE_MB"):
        read_document(big, "big.txt", max_file_mb=1)


def test_file_names_with_spaces_and_non_latin_letters_index_and_cite(tmp_path, embedder):
    from conftest import make_qa

    qa = make_qa(
        tmp_path,
        embedder,
        {
            "Báo cáo an ninh (bản cuối).txt": "Thủ tướng Luxembourg ký thỏa thuận an ninh hôm 10/7.",
            "my report – final.md": "# Final report\n\nDenmark signed a 10-year agreement in February.",
        },
    )
    report = qa.build()
    assert sorted(report.added) == [
        "corpus/Báo cáo an ninh (bản cuối).txt",
        "corpus/my report – final.md",
    ]
    answer = qa.ask("When did Denmark sign its agreement?")
    assert answer.citations[0].document == "corpus/my report – final.md"
    assert answer.citations[0].title == "Final report"


def test_an_error_raised_deep_inside_pypdf_becomes_a_message_naming_the_page(tmp_path, monkeypatch):
    """pypdf itself is made to fail (our code is not mocked): any exception type it raises
    while extracting a page is reported with the file, the page and what to do."""
    import struct

    from pypdf import PageObject

    def broken(self, *args, **kwargs):
        raise struct.error("unpack requires a buffer of 4 bytes")

    pdf = write_pdf(tmp_path / "odd.pdf", ["first page", "second page"])
    monkeypatch.setattr(PageObject, "extract_text", broken)
    with pytest.raises(UnreadableFile, match=r"odd.pdf: text extraction failed on page 1 \(error"):
        read_document(pdf, "odd.pdf")


def test_very_long_lines_and_unbroken_strings_are_chunked_within_the_model_limit(
    tmp_path, embedder
):
    from conftest import make_qa

    sentence = "The Orvane pact funds coastal radar stations along the Black Sea. "
    qa = make_qa(
        tmp_path,
        embedder,
        {
            "long.txt": sentence * 400 + "x" * 50_000 + " The Orvane pact was signed in Odesa.",
            "links.md": "See [the Orvane annex](http://example.org/a) and <b>bold</b> text "
            "about demining in Kharkiv. " * 50,
        },
    )
    report = qa.build()
    assert sorted(report.added) == ["corpus/links.md", "corpus/long.txt"]
    for p in qa.index.passages:
        assert embedder.count_tokens(p.text) <= embedder.max_tokens + 8
    answer = qa.ask("Where was the Orvane pact signed?")
    assert "Odesa" in answer.answer


def test_restructuredtext_is_read_as_plain_text(tmp_path):
    path = tmp_path / "usage.rst"
    path.write_text("Usage\n=====\n\nThe server ports are set with ``authport`` (default 1812).\n")
    assert "(default 1812)" in load(path).text
    files, skipped = discover([tmp_path])
    assert path in files and not skipped


CHANGELOG = (
    "# Changelog\n\nAll notable changes are listed here.\n\n"
    "## [v2.0.0] - 2023-09-17\n[v2.0.0]: https://example.org/compare/v1.1.0...v2.0.0\n\n"
    "### Changed\n- **BREAKING**: Rename `Finder` to `GeneFinder`.\n\n"
    "```sh\n# not a heading: a comment in code\npip install tool\n```\n\n"
    "### Fixed\n- A crash on empty input.[^1]\n\n"
    "## [v1.1.0] - 2022-04-20\n[v1.1.0]: <https://example.org/compare/v1.0.0...v1.1.0> 'diff'\n\n"
    "### Fixed\n- A leak in the parser.\n\n"
    "[^1]: Reported by a user.\n"
)


def _headings(doc) -> list[tuple[str, int]]:
    """A document's headings as (words, level), in text order."""
    return [(doc.text[a:b], level) for a, b, level in doc.sections]


def test_markdown_headings_become_sections_and_link_definitions_are_not_text(tmp_path):
    """The headings the Markdown declares are kept with their levels; each passage can be
    read under them. A link reference definition shows nothing on the page, so it is not
    text (a footnote is); a "# comment" in a code block is not a heading."""
    md = tmp_path / "CHANGELOG.md"
    md.write_text(CHANGELOG)
    doc = read_document(md, "CHANGELOG.md")
    assert _headings(doc) == [
        ("Changelog", 1),
        ("[v2.0.0] - 2023-09-17", 2),
        ("Changed", 3),
        ("Fixed", 3),
        ("[v1.1.0] - 2022-04-20", 2),
        ("Fixed", 3),
    ]
    assert "https://example.org" not in doc.text and "Reported by a user." in doc.text
    assert doc.headings_at(doc.text.index("A crash on empty input")) == (
        "Changelog",
        "[v2.0.0] - 2023-09-17",
        "Fixed",
    )
    assert doc.headings_at(doc.text.index("A leak in the parser")) == (
        "Changelog",
        "[v1.1.0] - 2022-04-20",
        "Fixed",
    )


def test_html_headings_become_sections(tmp_path):
    page = tmp_path / "guide.html"
    page.write_text(
        "<html><body><h1>Guide</h1><p>Intro.</p><h2>Install <a href='#i'>¶</a></h2>"
        "<p>Run the installer.</p><h3>On Windows</h3><p>Use the wizard.</p>"
        "<h2>Usage</h2><p>Call it.</p></body></html>"
    )
    doc = read_document(page, "guide.html")
    assert _headings(doc) == [
        ("Guide", 1),
        ("Install", 2),
        ("On Windows", 3),
        ("Usage", 2),
    ]
    assert doc.headings_at(doc.text.index("Use the wizard")) == ("Guide", "Install", "On Windows")
    assert doc.headings_at(doc.text.index("Call it")) == ("Guide", "Usage")


def test_a_passage_stays_in_its_section_and_a_heading_is_never_glued_to_a_sentence(tmp_path):
    """A changelog's versions are short: packed by size alone, one passage would end with
    the next version's heading and the next would hold its changes without it."""
    md = tmp_path / "CHANGELOG.md"
    md.write_text(CHANGELOG)
    doc = read_document(md, "CHANGELOG.md")
    passages = chunk_document(doc, max_tokens=200)
    versions = [p for p in passages if "[v" in p.text]
    assert [p.text.count("[v") for p in versions] == [1, 1]  # one version per passage
    assert versions[0].text.startswith("[v2.0.0] - 2023-09-17")
    assert "A crash on empty input" in versions[0].text and "leak" not in versions[0].text
    for p in passages:
        spans = [p.text[a:b] for a, b in p.sentences]
        assert "Changed" in spans or "Changed" not in p.text  # the heading is a unit alone


def test_a_pdf_outline_gives_the_headings_on_their_pages_not_in_the_contents(tmp_path):
    """A PDF declares its headings in its outline (the viewer's bookmarks), each with its
    page. They are found on that page, numbered as the text numbers them, and not in the
    table of contents that lists them first."""
    contents = "Contents\n1 Installation 2\n1.1 On Windows 2\n2 Usage 3"
    install = (
        "1 Installation\nThe tool installs from the package index.\n"
        "1.1 On Windows\nThe installer asks for a folder."
    )
    usage = "2 Usage\nRun the tool with a file name."
    pdf = write_pdf(
        tmp_path / "manual.pdf",
        [contents, install, usage],
        outline={2: [(1, "Installation"), (2, "On Windows")], 3: [(1, "Usage")]},
    )
    doc = read_document(pdf, "manual.pdf")
    found = [(doc.text[a:b], level, doc.page_at(a)) for a, b, level in doc.sections]
    assert found == [("1 Installation", 1, 2), ("1.1 On Windows", 2, 2), ("2 Usage", 1, 3)]
    assert doc.headings_at(doc.text.index("The installer asks")) == (
        "1 Installation",
        "1.1 On Windows",
    )


def test_restructuredtext_section_titles_and_markdown_underlined_headings_are_headings(tmp_path):
    """reStructuredText titles are underlined (or over- and underlined) with punctuation,
    their levels in the order the document first uses each style; Markdown allows the
    same underlining with "=" and "-". A rule after a blank line or a table's rule is not a
    heading."""
    rst = tmp_path / "guide.rst"
    rst.write_text(
        "*****\nUsage\n*****\n\nDictionaries\n============\n\nRead them first.\n\n"
        "Vendor files\n------------\n\nThey nest.\n\nClients\n=======\n\nSend packets.\n"
    )
    doc = read_document(rst, "guide.rst")
    assert _headings(doc) == [
        ("Usage", 1),
        ("Dictionaries", 2),
        ("Vendor files", 3),
        ("Clients", 2),
    ]
    md = tmp_path / "readme.md"
    md.write_text(
        "Tool\n====\n\nIntro.\n\nInstall\n-------\n\nRun pip.\n\n---\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n"
    )
    doc = read_document(md, "readme.md")
    assert _headings(doc) == [
        ("Tool", 1),
        ("Install", 2),
    ]


PLAIN_CHANGELOG = (
    "Tool change log\n\nAll notable changes are listed here.\n\n"
    "2024-07-04 Version 1.1.8\n   - Handle signatures without a timestamp.\n\n"
    "2023-01-12 Version 1.1.0\n   - Add capability to sign and verify ARC signatures.\n\n"
    "Version 1.0.9 - April 29, 2014\n  * Update for the standards track RFC.\n\n"
    "2021-03-02 Version 1.0.0\n   - First stable release.\n\n"
    "Usage\n=====\n\nRun the tool with a file name.\n\n"
    "RFC 9999            Example Format            May 2014\n\nThe format is simple.\n\n"
    "RFC 9999            Example Format            May 2014\n\nIt has one field.\n\n"
    "RFC 9999            Example Format            May 2014\n\nThat is all.\n"
)


def test_a_plain_text_change_log_s_entries_and_underlined_titles_are_headings(tmp_path):
    """A plain text's dated entries ("2023-01-12 Version 1.1.0") head what is written under
    them: a change read there is a change of that version, of that date. Only a series of
    such lines, each its own, counts: a lone dated line ("Version 1.0.9 - April 29, 2014"
    is written in another shape) and a page's running head (the same line on every page)
    do not. Titles underlined as reStructuredText writes them are headings too."""
    path = tmp_path / "ChangeLog.txt"
    path.write_text(PLAIN_CHANGELOG)
    doc = read_document(path, "ChangeLog.txt")
    assert _headings(doc) == [
        ("2024-07-04 Version 1.1.8", 2),  # below the titles
        ("2023-01-12 Version 1.1.0", 2),
        ("2021-03-02 Version 1.0.0", 2),
        ("Usage", 1),
    ]
    assert doc.headings_at(doc.text.index("Add capability to sign")) == (
        "2023-01-12 Version 1.1.0",
    )
    assert doc.headings_at(doc.text.index("It has one field")) == ("Usage",)
