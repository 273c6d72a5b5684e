"""The Gradio UI in a real browser: Debian's headless Chromium driven by Playwright against a real
uvicorn server on loopback (the app of ``app.create_app``, real MiniLM, real library).

Flow: upload a real PDF in the Library tab and wait for the ingest, ask a question in the Ask tab,
see a cited answer, click the citation chip, check its DOI link and that its PDF link opens the
stored PDF at the cited page; run the Review tab on two papers; repeat a question at a 390x844
(phone) viewport. Screenshots go to ``screenshots/`` (git-ignored) for a person to look at.
"""
from __future__ import annotations

import re

import pytest

from tests.pdfmaker import make_paper
from tests.samples import MILLET, RICE, SORGHUM
from tests.ui.conftest import SHOTS, need_browser, serving

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    need_browser()
    from assistant.service import Souwen
    from assistant.settings import Settings

    root = tmp_path_factory.mktemp("ui")
    make_paper(root / "millet.pdf", title="Heat tolerance of pearl millet landraces", doi="10.1234/millet.2022",
               sections=MILLET, year=2022)
    make_paper(root / "rice.pdf", title="Submergence tolerance of SUB1A rice", doi="10.1234/rice.2020",
               sections=RICE, year=2020)
    settings = Settings(library=root / "lib")
    seed = Souwen(settings)
    assert not seed.ingest([root / "millet.pdf", root / "rice.pdf"], workers=0).failed
    seed.close()
    make_paper(root / "sorghum.pdf", title="Drought tolerance of sorghum cultivars", doi="10.1234/sorghum.2021",
               sections=SORGHUM, year=2021)
    with serving(settings) as base:
        yield base, root


def ask(page, question: str):
    page.locator("#question textarea").fill(question)
    page.locator("#ask-button").click()
    page.locator("#citations .cite-chip").first.wait_for(timeout=60_000)


def test_upload_ask_cite_and_open_pdf(server, browser):
    base, root = server
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/ui/")
    page.get_by_role("tab", name="Library").click()
    page.locator("#upload input[type=file]").set_input_files(str(root / "sorghum.pdf"))
    page.locator("#ingest-button").click()
    page.locator("#ingest-log").get_by_text("added").wait_for(timeout=120_000)
    page.screenshot(path=str(SHOTS / "library.png"), full_page=True)

    page.get_by_role("tab", name="Ask").click()
    ask(page, "How much grain yield did the cultivar Kola retain under drought?")
    answer = page.locator("#chat").inner_text()
    assert "84 percent" in answer and "[1]" in answer
    chip = page.locator("#citations .cite-chip").first
    chip.locator("summary").click()
    assert "84 percent" in chip.locator("blockquote").inner_text()
    doi = chip.locator("a.doi-link").get_attribute("href")
    assert doi == "https://doi.org/10.1234/sorghum.2021"
    pdf = chip.locator("a.pdf-link").get_attribute("href")
    page_number = int(re.search(r"#page=(\d+)$", pdf).group(1))
    assert page_number >= 1
    response = page.request.get(page.url.split("/ui")[0] + "/ui/" + pdf.split("#")[0])
    assert response.status == 200 and response.body()[:5] == b"%PDF-"
    page.screenshot(path=str(SHOTS / "ask-desktop.png"), full_page=True)


def test_review_two_papers(server, browser):
    base, _ = server
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/ui/")
    page.get_by_role("tab", name="Review").click()
    dropdown = page.locator("#review-papers input")
    for title in ("Heat tolerance of pearl millet", "Submergence tolerance of SUB1A rice"):
        dropdown.click()
        page.get_by_role("option", name=re.compile(title)).click()
    page.screenshot(path=str(SHOTS / "review-picked.png"), full_page=True)
    page.locator("#summarize-button").click()
    try:
        page.locator("#report").get_by_text("Across the papers", exact=False).first.wait_for(timeout=60_000)
    finally:
        page.screenshot(path=str(SHOTS / "review.png"), full_page=True)
    report = page.locator("#report").inner_text()
    assert "SUB1A" in report
    assert "Tifleaf" in report or "millet" in report.lower()
    page.screenshot(path=str(SHOTS / "review.png"), full_page=True)


def test_phone_viewport(server, browser):
    base, _ = server
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(f"{base}/ui/")
    ask(page, "How much did pollen viability of Tifleaf fall at 42 degrees?")
    assert "40 percent" in page.locator("#chat").inner_text()
    # nothing wider than the screen: no sideways scrolling of the whole page
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1
    page.screenshot(path=str(SHOTS / "ask-phone.png"), full_page=True)
    context.close()


def test_figure_search_tab(server, browser):
    base, _ = server
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/ui/")
    page.get_by_role("tab", name="Figures").click()
    page.locator("#figure-query textarea, #figure-query input").first.fill("growth of the test strains")
    page.locator("#figure-query textarea, #figure-query input").first.press("Enter")
    page.locator("#figure-info").get_by_text("figures").wait_for(timeout=60_000)
    page.locator("#figure-gallery img").first.click()
    page.locator("#figure-info").get_by_text("Figure 1").first.wait_for(timeout=30_000)
    assert "PDF p." in page.locator("#figure-info").inner_text()
    page.screenshot(path=str(SHOTS / "figures.png"), full_page=True)
