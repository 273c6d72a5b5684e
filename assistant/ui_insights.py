"""The Insights tab of the web UI (图解研究趋势): plotly charts of papers per year (stacked by
一级学科 when the papers carry discipline labels), the discipline and OA licence distributions, the
top authors and institutions, and the co-author or institution collaboration network.

The charts are drawn from the same ``service.insights`` rows that ``souwen stats --json`` and
``/stats/...`` return (pictures in ``assistant.charts``). They load when the tab opens and again
with the Refresh button; a year range, a discipline code or a topic narrows every chart at once.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import gradio as gr

if TYPE_CHECKING:
    from assistant.service import Souwen


def build_tab(get_service: Callable[[], Souwen]) -> None:
    """Add the Insights tab to the gr.Blocks being built."""
    from assistant import charts
    from assistant.insights import Scope
    from assistant.retrieval import parse_years

    with gr.Tab("Insights", id="insights") as tab:
        with gr.Row():
            years_box = gr.Textbox(label="Years (e.g. 2020-2024)", max_lines=1, elem_id="insights-years")
            discipline = gr.Textbox(label="学科 code (e.g. 0710)", max_lines=1, elem_id="insights-discipline")
            topic = gr.Textbox(label="Topic", max_lines=1, elem_id="insights-topic")
            kind = gr.Radio(["institutions", "coauthors"], value="institutions", label="Network",
                            elem_id="insights-network-kind")
        refresh = gr.Button("Refresh", variant="primary", elem_id="insights-refresh")
        summary = gr.Markdown(elem_id="insights-summary")
        years_plot = gr.Plot(label="Papers per year", elem_id="insights-years-plot")
        with gr.Row():
            discipline_plot = gr.Plot(label="Disciplines", elem_id="insights-disciplines-plot")
            licence_plot = gr.Plot(label="Licences", elem_id="insights-licences-plot")
        with gr.Row():
            authors_plot = gr.Plot(label="Top authors", elem_id="insights-authors-plot")
            institutions_plot = gr.Plot(label="Top institutions", elem_id="insights-institutions-plot")
        network_plot = gr.Plot(label="Collaboration network", elem_id="insights-network-plot")

        def draw(year_text: str, code: str, topic_name: str, network_kind: str):
            try:
                first, last = parse_years((year_text or "").strip() or None)
                scope = Scope(discipline=(code or "").strip(), topic=(topic_name or "").strip(),
                              year_from=first, year_to=last)
                insights = get_service().insights
                by = "discipline" if insights.primary_disciplines() else None
                years = insights.years(by, scope)
                disciplines = insights.disciplines(scope)
                licences = insights.licences(scope)
                authors = insights.authors(15, scope)
                institutions = insights.institutions(15, scope)
                graph = insights.network(network_kind or "institutions", scope)
                papers = insights.papers(scope)
            except ValueError as exc:
                raise gr.Error(str(exc)) from exc
            with_inst = sum(1 for p in papers if p.institutions)
            text = (f"**{len(papers)}** papers in view · **{with_inst}** with an institution · "
                    f"**{sum(1 for p in papers if p.licence)}** with an open licence · network: "
                    f"{graph.number_of_nodes()} {network_kind or 'institutions'}, {graph.number_of_edges()} links")
            return (text,
                    charts.years_figure(years, "Papers per year" + (" by discipline" if by else "")),
                    charts.bar_figure([charts.discipline_label(r) for r in disciplines],
                                      [r["papers"] for r in disciplines], "Papers per discipline (一级学科)"),
                    charts.licence_figure(licences),
                    charts.bar_figure(*charts.bars(authors, "name"), "Top authors"),
                    charts.bar_figure(*charts.bars(institutions, "name"), "Top institutions"),
                    charts.network_figure(graph, f"{(network_kind or 'institutions').capitalize()} network"))

        inputs = [years_box, discipline, topic, kind]
        outputs = [summary, years_plot, discipline_plot, licence_plot, authors_plot, institutions_plot, network_plot]
        tab.select(draw, inputs, outputs)
        refresh.click(draw, inputs, outputs)
        kind.change(draw, inputs, outputs)
