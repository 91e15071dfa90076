"""The real app in a real browser: Debian's Chromium driven by Playwright.

The app is the session's `qa serve` on a copy of the shipped corpus. Every screen is checked
with axe-core (installed from npm by `make test` into .cache/axe/), and fails on a serious or
critical violation. Set QA_SCREENSHOT_DIR=docs to refresh the README's screenshots.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conftest import write_pdf

CHROMIUM = "/usr/bin/chromium"
SHOTS = os.environ.get("QA_SCREENSHOT_DIR")
AXE = Path(__file__).resolve().parent.parent / ".cache/axe/node_modules/axe-core/axe.min.js"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium with apt.")

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser, served_corpus):
    url, _ = served_corpus
    context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
    context.set_default_timeout(90_000)  # a loaded CI machine can take a while per step
    page = context.new_page()
    page.on("dialog", lambda d: d.accept())
    page.goto(url)
    page.wait_for_selector("#question textarea")
    yield page
    context.close()


@pytest.fixture
def phone(browser, served_corpus):
    """A phone-sized window in dark mode."""
    url, _ = served_corpus
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    context.set_default_timeout(90_000)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#question textarea")
    yield page
    context.close()


def shoot(page, name: str, full_page: bool = False) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name), full_page=full_page)


def assert_accessible(page, screen: str) -> None:
    """axe-core on the page as shown: no serious or critical violation (contrast, names,
    labels, focusable regions...)."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `make test` installs axe-core from npm.")
    # a component Gradio is updating is dimmed to a fifth of its opacity ("pending"), which
    # axe reads as text without contrast: judge the screen once the update has landed
    page.wait_for_function("!document.querySelector('.pending')", timeout=30_000)
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
             .filter(v => v.impact === 'serious' || v.impact === 'critical')
             .map(v => `${v.impact} ${v.id}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)"""
    )
    assert not violations, f"axe on the {screen} screen:\n" + "\n".join(violations)


def ask(page, question: str) -> None:
    cards_before = page.locator("#citations .cards").inner_html()
    page.fill("#question textarea", question)
    page.click("#ask")
    page.wait_for_function(
        "before => document.querySelector('#citations .cards').innerHTML !== before",
        arg=cards_before,
        timeout=60_000,
    )


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def test_the_first_screen_says_what_the_collection_holds_and_passes_axe(page):
    about = page.locator("#citations .about").inner_text()
    assert "5 documents" in about and "English" in about and "Vietnamese" in about
    assert "2024" in about and "21 Security Agreements" in about
    assert page.evaluate("[...document.fonts].filter(f => f.status === 'loaded').length") == 0
    font = page.evaluate("getComputedStyle(document.querySelector('#ask')).fontFamily")
    assert font.startswith("system-ui")  # the system's complete fonts: no glyph falls back
    assert_accessible(page, "first")
    shoot(page, "first-screen.png")


def test_an_example_is_shown_whole_and_asked_on_click(page):
    example = page.locator("#examples button.example").first
    text = example.inner_text()
    assert text == "How much did Sweden and Norway pledge to Ukraine?"  # whole, no "…"
    example.click()
    page.locator("#citations .card").first.wait_for()
    assert text in page.locator("#citations .for").inner_text()
    assert "6.5 billion" in page.locator("#chat").inner_text()


def test_asking_shows_the_answer_and_its_citation_cards(page):
    ask(page, "How much did Sweden and Norway pledge to Ukraine?")
    cards = page.locator("#citations .card")
    assert cards.count() >= 2
    assert "6.5 billion" in page.locator("#chat").inner_text()
    first = cards.first.inner_text()
    assert "[1]" in first and "p. 3" in first
    assert_accessible(page, "ask")
    shoot(page, "answer.png")


def test_an_earlier_answer_brings_back_its_own_cards_when_its_marker_is_clicked(page):
    ask(page, "How much did Sweden pledge to Ukraine?")
    first_quotes = page.locator("#citations .card mark").all_inner_texts()
    ask(page, "Who signed the security agreement for Luxembourg?")
    second_quotes = page.locator("#citations .card mark").all_inner_texts()
    assert "answer 2" in page.locator("#citations .for").inner_text()
    assert first_quotes and second_quotes and first_quotes != second_quotes
    page.locator("#chat strong", has_text="[1]").first.click()
    page.wait_for_function(
        "document.querySelector('#citations .for').innerText.includes('answer 1')"
    )
    assert page.locator("#citations .card mark").all_inner_texts() == first_quotes
    page.wait_for_selector("#citations #cite-1.focus")  # the clicked [1] is brought into view


def test_a_question_refused_for_its_filters_clears_the_previous_cards(page):
    ask(page, "How much did Sweden pledge to Ukraine?")
    assert page.locator("#citations .card").count() >= 1
    page.get_by_text("Filters and display").click()
    page.get_by_label("Dated from").fill("July 2024")
    ask(page, "How much did Norway pledge to Ukraine?")
    assert page.locator("#citations .card").count() == 0
    assert "Not answered" in page.locator("#citations .notice").inner_text()


def test_copy_puts_the_quote_and_its_reference_on_the_clipboard(page):
    ask(page, "How much did Sweden pledge to Ukraine?")
    page.locator("#citations .card").first.get_by_text("Copy citation").click()
    page.wait_for_selector("text=Copied ✓")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("“") and "Making the Glass" in copied and "p. 3" in copied


def test_view_in_source_opens_the_document_scrolled_to_the_highlighted_quote(page):
    ask(page, "How much did Sweden pledge to Ukraine?")
    card = page.locator("#citations .card").first
    quote = card.locator("mark").inner_text()
    card.get_by_text("View in source").click()
    cited = page.locator("#source-view mark#cited")
    cited.wait_for(state="visible")
    assert quote.startswith(cited.inner_text()[:40])
    markers = page.locator("#source-view .page").all_inner_texts()
    assert len(markers) >= 2 and len(set(markers)) == len(markers)  # each page named once
    page.wait_for_function(
        """() => { const m = document.querySelector('#source-view #cited').getBoundingClientRect();
                   const d = document.querySelector('#source-view .doc').getBoundingClientRect();
                   return m.top >= d.top && m.bottom <= d.bottom; }""",
        timeout=5_000,
    )
    assert_accessible(page, "source")
    shoot(page, "source-viewer.png")


def only_documents(page, typed: str, option: str) -> None:
    """Restrict the search to one document through the filters' dropdown."""
    page.get_by_text("Filters and display").click()
    dropdown = page.locator("#filter-docs input")
    dropdown.click()
    dropdown.fill(typed)
    page.get_by_role("option", name=re.compile(option)).click()
    page.keyboard.press("Escape")


def test_a_document_filter_keeps_citations_to_that_document(page):
    only_documents(page, "Denmark signs", "Denmark signs")
    ask(page, "How much did Sweden pledge to Ukraine?")
    refs = page.locator("#citations .card .ref").all_inner_texts()
    assert refs, "no citation or passage card shown"
    assert all("Denmark signs" in r for r in refs)
    assert "Searched only documents: Denmark signs" in page.locator("#chat").inner_text()


def test_the_web_article_is_cited_without_a_page_and_with_its_title(page):
    only_documents(page, "21 Security", "21 Security Agreements")
    ask(page, "Which country was the first to sign such an agreement with Ukraine?")
    refs = page.locator("#citations .card .ref").all_inner_texts()
    assert refs and all("21 Security Agreements" in r for r in refs)
    assert not any(re.search(r"\bpp?\. \d", r) for r in refs)  # a web page has no pages


def test_an_uploaded_pdf_can_be_asked_about_at_once(page, tmp_path):
    pdf = write_pdf(
        tmp_path / "Quorvian accord.pdf",
        [
            "Briefing note.",
            "The Quorvian accord commits Ukraine and Quorvia to joint drone production "
            "of 4,000 units a year from 2025.",
        ],
    )
    open_tab(page, "Library")
    upload(page, pdf)
    page.wait_for_selector("#library-status :text('Indexed:')", timeout=120_000)
    assert "Quorvian-accord.pdf" in page.locator("#library").inner_text()
    assert_accessible(page, "library")
    shoot(page, "library.png")
    open_tab(page, "Ask")
    ask(page, "How many drones a year does the Quorvian accord commit to?")
    first = page.locator("#citations .card").first.inner_text()
    assert "4,000 units" in first and "p. 2" in first


def upload(page, path: Path) -> None:
    """Pick a file with the Upload button, as a user does."""
    with page.expect_file_chooser() as chooser:
        page.click("#upload")
    chooser.value.set_files(str(path))


def test_upload_errors_name_the_users_file_and_each_upload_has_its_own_status(page, tmp_path):
    bad_pdf = tmp_path / "random-bytes.pdf"
    bad_pdf.write_bytes(os.urandom(2048))
    program = tmp_path / "tool.exe"
    program.write_bytes(b"MZ" + os.urandom(512))
    open_tab(page, "Library")
    upload(page, bad_pdf)
    page.wait_for_selector("#library-status :text('Not indexed')", timeout=120_000)
    status = page.locator("#library-status").inner_text()
    assert "random-bytes.pdf: not a PDF file" in status and ".incoming" not in status
    upload(page, program)
    # the outcome, not the "Indexing tool.exe" progress line shown before it
    page.wait_for_selector("#library-status :text('Not indexed: tool.exe')", timeout=120_000)
    status = page.locator("#library-status").inner_text()
    assert "tool.exe: file type .exe is not supported" in status
    assert "random-bytes" not in status  # the previous upload's error is gone


def test_an_uploaded_document_can_be_described_for_citing(page, tmp_path):
    note = tmp_path / "ferry-note.txt"
    note.write_text("The Odesa ferry agreement adds 2 night crossings a week from May 2025.")
    open_tab(page, "Library")
    upload(page, note)
    page.wait_for_selector("#library-status :text('Indexed: ferry-note.txt')", timeout=120_000)
    page.get_by_text("Describe an uploaded document for citing").click()
    page.get_by_label("Uploaded document").click()
    page.get_by_role("option", name=re.compile("Ferry note")).click()
    title = page.locator("#edit-title textarea")
    page.wait_for_function("t => t.value === 'Ferry note'", arg=title.element_handle())
    assert_accessible(page, "library, describing an upload")
    title.fill("Odesa ferry agreement")  # its details, filled in from the index, edited
    page.get_by_label("Publisher").fill("Port of Odesa")
    page.get_by_label("Date", exact=True).fill("2025-04")
    page.click("#save-details")
    page.wait_for_selector("#library-status :text('Saved')", timeout=120_000)
    assert "Odesa ferry agreement" in page.locator("#library").inner_text()
    open_tab(page, "Ask")
    ask(page, "How many night crossings does the Odesa ferry agreement add?")
    ref = page.locator("#citations .card .ref").first.inner_text()
    assert "Odesa ferry agreement, Port of Odesa, 2025-04" in ref


def test_export_downloads_markdown_with_footnotes(page):
    ask(page, "How much did Sweden pledge to Ukraine?")
    with page.expect_download() as download:
        page.click("#export-md")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert "How much did Sweden pledge to Ukraine?" in text
    assert re.search(r"\[\^1\]:.*Making the Glass", text)
    assert re.search(r"## Sources\n\n- Making the Glass", text)
    assert "\\(" not in text and "\\)" not in text
    assert re.fullmatch(
        r"\d{4}-\d{2}-\d{2}-how-much-did-sweden-pledge-to-ukraine\.md",
        download.value.suggested_filename,
    )


def test_export_holds_only_the_chosen_answers(page):
    ask(page, "How much did Sweden pledge to Ukraine?")
    ask(page, "Who signed the security agreement for Luxembourg?")
    md = page.locator("#export-md")
    md.filter(has_text="(2 answers)").wait_for()
    opacity = "Number(getComputedStyle(document.querySelector('#export-md')).opacity)"
    # enabled, it looks so once its fade-in has run (read mid-transition it was 0.998 once)
    page.wait_for_function(f"{opacity} === 1", timeout=5_000)
    page.locator("#export-pick").get_by_label("1. How much did Sweden pledge to Ukraine?").uncheck()
    md.filter(has_text="(1 answer)").wait_for()
    with page.expect_download() as download:
        md.click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert "Who signed the security agreement for Luxembourg?" in text
    assert "Sweden" not in text
    name = download.value.suggested_filename
    assert name.endswith("-who-signed-the-security-agreement-for-luxembourg.md")
    page.locator("#export-pick").get_by_label(
        "2. Who signed the security agreement for Luxembourg?"
    ).uncheck()
    page.wait_for_function("document.querySelector('#export-md').disabled")  # nothing chosen
    page.wait_for_function(f"{opacity} < 0.6")  # and it looks disabled


def test_a_document_with_a_script_shows_it_as_text_and_runs_nothing(page, tmp_path):
    hostile = tmp_path / "hostile.html"
    hostile.write_text(
        "<html><body><p>The Plovdiv memorandum on mine clearance was signed in 2024. "
        "&lt;script&gt;window.__pwned = 1&lt;/script&gt; "
        '&lt;img src=x onerror="window.__pwned = 2"&gt;</p></body></html>',
        encoding="utf-8",
    )
    open_tab(page, "Library")
    upload(page, hostile)
    page.wait_for_selector("#library-status :text('Indexed: hostile.html')", timeout=120_000)
    open_tab(page, "Ask")
    ask(page, "When was the Plovdiv memorandum on mine clearance signed?")
    card = page.locator("#citations .card").first
    card.get_by_text("View in source").click()
    # the quote (mark#cited), or the passage if the answer abstained for this index's calibration
    page.locator("#source-view #cited").wait_for(state="visible")
    assert "<script>window.__pwned = 1</script>" in page.locator("#source-view").inner_text()
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#source-view script, #citations script, #source-view img").count() == 0


def test_on_a_phone_the_first_card_follows_its_answer_within_one_screen(phone):
    ask(phone, "How much did Sweden pledge to Ukraine?")
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"page is {overflow}px wider than the window"
    gap = phone.evaluate(
        """() => { const y = e => e.getBoundingClientRect().top + window.scrollY;
                   const bots = document.querySelectorAll('#chat .bot');
                   return y(document.querySelector('#citations .card')) - y(bots[bots.length - 1]); }"""
    )
    assert 0 < gap < 844, f"the first card is {gap}px below its answer"
    assert_accessible(phone, "phone")
    phone.evaluate(  # the answer at the top: the screenshot shows it and its first card
        """() => { const bots = document.querySelectorAll('#chat .bot');
                   bots[bots.length - 1].scrollIntoView({block: 'start'}); }"""
    )
    shoot(phone, "phone-dark.png")


def test_on_a_phone_the_library_is_a_list_of_labelled_cards(phone):
    open_tab(phone, "Library")
    phone.locator("#library td[data-label='Title']").first.wait_for()
    assert (
        phone.evaluate("getComputedStyle(document.querySelector('#library tr')).display") == "block"
    )
    labels = phone.evaluate(
        """() => [...document.querySelectorAll('#library tbody tr:first-child td')]
                   .map(td => getComputedStyle(td, '::before').content)"""
    )
    assert '"Title: "' in labels and '"Pages: "' in labels  # each line says what it is
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    assert_accessible(phone, "phone library")
    shoot(phone, "phone-library.png")
