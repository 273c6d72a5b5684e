"""The Topics tab in a real browser: Debian's headless Chromium driven by Playwright against a real
uvicorn server on loopback (``app.create_app``, the real MiniLM, a library of generated PDFs).

Flow: open the Topics tab, create a topic from its name, description and query, see the matching
paper (title, DOI link, how it joined) and not the unrelated one, its figures in the gallery, then
build the cited overview and open a citation chip. Screenshot: ``screenshots/topics.png``.
"""
from __future__ import annotations


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

    root = tmp_path_factory.mktemp("ui-topics")
    papers = [make_paper(root / "millet.pdf", title="Heat tolerance of pearl millet landraces",
                         doi="10.1234/millet.2022", sections=MILLET, year=2022),
              make_paper(root / "rice.pdf", title="Submergence tolerance of SUB1A rice", doi="10.1234/rice.2020",
                         sections=RICE, year=2020),
              make_paper(root / "sorghum.pdf", title="Drought tolerance of sorghum cultivars",
                         doi="10.1234/sorghum.2021", sections=SORGHUM, year=2021)]
    settings = Settings(library=root / "lib")
    seed = Souwen(settings)
    assert not seed.ingest(papers, workers=0).failed
    seed.close()
    with serving(settings) as base:
        yield base


def test_create_a_topic_and_read_its_page(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{server}/ui/")
    page.get_by_role("tab", name="Topics").click()
    page.locator("#topic-new").get_by_text("New topic").click()
    page.locator("#topic-name input, #topic-name textarea").first.fill("Flooding")
    page.locator("#topic-description textarea").first.fill("Crops that survive submergence")
    page.locator("#topic-query input, #topic-query textarea").first.fill("submergence tolerance")
    page.locator("#topic-create").click()
    try:
        page.locator("#topic-papers").get_by_text("Submergence tolerance of SUB1A rice").wait_for(timeout=60_000)
    finally:
        page.screenshot(path=str(SHOTS / "topics-created.png"), full_page=True)
    papers = page.locator("#topic-papers").inner_text()
    assert "matched" in papers and "millet" not in papers.lower() and "sorghum" not in papers.lower()
    assert page.locator("#topic-papers a.doi-link").first.get_attribute("href") == "https://doi.org/10.1234/rice.2020"
    assert "Flooding" in page.locator("#topic-info").inner_text()
    page.locator("#topic-gallery img").first.wait_for(timeout=30_000)
    assert "Flooding" in page.locator("#topics-list").inner_text()

    page.locator("#topic-overview-button").click()
    page.locator("#topic-citations .cite-chip").first.wait_for(timeout=60_000)
    overview = page.locator("#topic-overview").inner_text()
    assert "[1]" in overview and "SUB1A" in overview
    chip = page.locator("#topic-citations .cite-chip").first
    chip.locator("summary").click()
    assert chip.locator("a.doi-link").get_attribute("href") == "https://doi.org/10.1234/rice.2020"
    page.screenshot(path=str(SHOTS / "topics.png"), full_page=True)
