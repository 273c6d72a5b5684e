"""The Insights tab in a real browser: Debian's headless Chromium driven by Playwright against a real
uvicorn server on loopback (the app of ``app.create_app``). The library holds small PDFs with
affiliations written by tests/pdfmaker.py and, when ../shared is present, four real corpus papers
(their institutions read at ingest). Opening the tab must draw every plotly chart; the screenshot
goes to ``screenshots/insights.png`` for a person to look at.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.pdfmaker import make_paper
from tests.samples import SORGHUM
from tests.ui.conftest import SHOTS, need_browser, serving

pytestmark = [pytest.mark.slow, pytest.mark.browser]
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "pdfs"
REAL = ("paper-13.pdf", "paper-28.pdf", "paper-32.pdf", "paper-12.pdf")  # short papers with affiliations
PLOTS = ("years", "disciplines", "licences", "authors", "institutions", "network")


def small_papers(folder: Path) -> list[Path]:
    made = []
    for i, (byline, places, year) in enumerate((
            ("Ada Lovelace1, Alan Turing1,2", "1 Department of Biology, University of Oxford, Oxford, UK. "
             "2 School of Computer Science, Tsinghua University, Beijing 100084, China", 2021),
            ("Ada Lovelace1, Grace Hopper2", "1 Department of Physics, University of Oxford, Oxford, UK. "
             "2 Department of Mathematics, Yale University, New Haven, CT 06520, USA", 2022),
            ("Grace Hopper1, Alan Turing2", "1 Department of Mathematics, Yale University, New Haven, CT 06520, USA. "
             "2 School of Computer Science, Tsinghua University, Beijing 100084, China", 2023))):
        made.append(make_paper(folder / f"p{i}.pdf", title=f"Drought tolerance of sorghum cultivars, trial {i + 1}",
                               doi=f"10.1234/insights.{i}", sections={places: [], **SORGHUM}, year=year,
                               authors=byline, figure=False))
    return made


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    need_browser()
    from assistant.service import Souwen
    from assistant.settings import Settings

    root = tmp_path_factory.mktemp("ui-insights")
    pdfs = small_papers(root)
    for name in REAL if CORPUS.is_dir() else ():
        pdfs.append(Path(shutil.copy(CORPUS / name, root / name)))
    settings = Settings(library=root / "lib", embedder={"model": "hashing"})
    seed = Souwen(settings)
    assert not seed.ingest(pdfs, workers=0).failed
    seed.close()
    with serving(settings) as base:
        yield base, len(pdfs)


def test_insights_tab_draws_every_chart(server, browser):
    base, papers = server
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/ui/")
    page.get_by_role("tab", name="Insights").click()
    try:
        for name in PLOTS:
            page.locator(f"#insights-{name}-plot .js-plotly-plot svg.main-svg").first.wait_for(timeout=60_000)
        page.locator("#insights-summary").get_by_text("papers in view").wait_for(timeout=30_000)
    finally:
        page.screenshot(path=str(SHOTS / "insights.png"), full_page=True)
    assert f"{papers} papers in view" in page.locator("#insights-summary").inner_text()
    # the network has its nodes drawn, and the institutions named in the PDFs are on the charts
    assert page.locator("#insights-network-plot .scatterlayer .point").count() >= 3
    assert "University of Oxford" in page.locator("#insights-institutions-plot").inner_text()
    # the co-author network, then a narrower scope, redraw in place
    page.locator("#insights-network-kind").get_by_text("coauthors").click()
    page.locator("#insights-summary").get_by_text("coauthors").wait_for(timeout=30_000)
    page.locator("#insights-years textarea, #insights-years input").first.fill("2022")
    page.locator("#insights-refresh").click()
    page.locator("#insights-summary").get_by_text("1 papers in view").wait_for(timeout=30_000)
    page.screenshot(path=str(SHOTS / "insights-coauthors-2022.png"), full_page=True)
