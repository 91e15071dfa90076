"""The real app in a real browser: Debian's Chromium driven by Playwright.

The app is the session's `qa serve` on a copy of the shipped corpus. Set
QA_SCREENSHOT_DIR=docs to refresh the README's screenshots from these tests.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conftest import write_pdf

CHROMIUM = "/usr/bin/chromium"
SHOTS = os.environ.get("QA_SCREENSHOT_DIR")


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


def shoot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name), full_page=False)


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


def test_asking_shows_the_answer_and_its_citation_cards(page):
    ask(page, "How much did Sweden and Norway pledge to Ukraine?")
    cards = page.locator("#citations .card")
    assert cards.count() >= 2
    assert "6.5 billion" in page.locator("#chat").inner_text()
    first = cards.first.inner_text()
    assert "[1]" in first and "p. 3" in first
    shoot(page, "answer.png")


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
    assert page.locator("#source-view .page").count() >= 2  # page markers of the PDF report
    page.wait_for_function(
        """() => { const m = document.querySelector('#source-view #cited').getBoundingClientRect();
                   const d = document.querySelector('#source-view .doc').getBoundingClientRect();
                   return m.top >= d.top && m.bottom <= d.bottom; }""",
        timeout=5_000,
    )
    shoot(page, "source-viewer.png")


def test_a_document_filter_keeps_citations_to_that_document(page):
    page.get_by_text("Filters and display").click()
    dropdown = page.locator("#filter-docs input")
    dropdown.click()
    dropdown.fill("Denmark signs")
    page.get_by_role("option", name=re.compile("Denmark signs")).click()
    page.keyboard.press("Escape")
    ask(page, "How much did Sweden pledge to Ukraine?")
    refs = page.locator("#citations .card .ref").all_inner_texts()
    assert refs, "no citation or passage card shown"
    assert all("Denmark signs" in r for r in refs)
    assert "Searched only documents: Denmark signs" in page.locator("#chat").inner_text()


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
    page.set_input_files("#upload input[type=file]", str(pdf))
    page.wait_for_selector("#library-status :text('Indexed:')", timeout=120_000)
    assert "Quorvian-accord.pdf" in page.locator("#library").inner_text()
    shoot(page, "library.png")
    open_tab(page, "Ask")
    ask(page, "How many drones a year does the Quorvian accord commit to?")
    first = page.locator("#citations .card").first.inner_text()
    assert "4,000 units" in first and "p. 2" in first


def test_export_downloads_markdown_with_footnotes(page):
    ask(page, "How much did Sweden pledge to Ukraine?")
    with page.expect_download() as download:
        page.click("#export-md")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert "How much did Sweden pledge to Ukraine?" in text
    assert re.search(r"\[\^1\]:.*Making the Glass", text)


def test_a_document_with_a_script_shows_it_as_text_and_runs_nothing(page, tmp_path):
    hostile = tmp_path / "hostile.html"
    hostile.write_text(
        "<html><body><p>The Plovdiv memorandum on mine clearance was signed in 2024. "
        "&lt;script&gt;window.__pwned = 1&lt;/script&gt; "
        '&lt;img src=x onerror="window.__pwned = 2"&gt;</p></body></html>',
        encoding="utf-8",
    )
    open_tab(page, "Library")
    page.set_input_files("#upload input[type=file]", str(hostile))
    page.wait_for_selector("#library-status :text('hostile.html')", timeout=120_000)
    open_tab(page, "Ask")
    ask(page, "When was the Plovdiv memorandum on mine clearance signed?")
    card = page.locator("#citations .card").first
    card.get_by_text("View in source").click()
    page.locator("#source-view mark#cited").wait_for(state="visible")
    assert "<script>window.__pwned = 1</script>" in page.locator("#source-view").inner_text()
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#source-view script, #citations script, #source-view img").count() == 0


def test_the_layout_fits_a_phone_width_window(browser, served_corpus):
    url, _ = served_corpus
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    context.set_default_timeout(90_000)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#question textarea")
    ask(page, "How much did Sweden pledge to Ukraine?")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"page is {overflow}px wider than the window"
    shoot(page, "phone-dark.png")
    context.close()
