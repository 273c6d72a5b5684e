"""The Topics tab (专题) of the web UI: the list of topics, a form to create one (name, description,
saved query), and a topic's page — its papers (title, DOI link, year, pinned or matched), a gallery
of its figures, and a button that builds its short cited overview (the review feature over its
papers, rendered like the Review tab with citation chips).

Pinning, editing and deleting live in the CLI and the API (``souwen topics``, ``/topics``); this tab
is for following topics. It calls the same ``service.topics`` as they do.
"""
from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING

import gradio as gr

from assistant.citations import doi_link
from assistant.ui import render_citations, report_markdown

if TYPE_CHECKING:
    from assistant.service import Souwen

CSS_TABLE = "overflow-x:auto"  # phones: the papers table scrolls sideways, not the page


def papers_html(members) -> str:
    """The topic's papers as an HTML table (escaped: titles come from PDFs)."""
    if not members:
        return "<p>No papers yet: none matches the query, and none is pinned.</p>"
    rows = []
    for m in members:
        p = m.paper
        link = doi_link(p.doi)
        doi = (f'<a class="doi-link" href="{html.escape(link)}" target="_blank" rel="noopener">{html.escape(p.doi)}</a>'
               if link else "—")
        score = f"{m.score:.2f}" if m.score is not None else ""
        rows.append(f"<tr><td>{html.escape(p.title or p.id)}</td><td>{doi}</td><td>{p.year or ''}</td>"
                    f"<td>{html.escape(m.how)}</td><td>{score}</td></tr>")
    return (f'<div style="{CSS_TABLE}"><table class="topic-papers"><thead><tr><th>Title</th><th>DOI</th>'
            f'<th>Year</th><th>How</th><th>Score</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def build_tab(get_service: Callable[[], Souwen]) -> None:
    """Add the Topics tab to the gr.Blocks being built."""
    from assistant.topics import TopicNotFound

    with gr.Tab("Topics", id="topics") as tab:
        topics_table = gr.Dataframe(headers=["name", "papers", "query", "description"], interactive=False,
                                    wrap=True, elem_id="topics-list")
        with gr.Accordion("New topic", open=False, elem_id="topic-new"):
            name = gr.Textbox(label="Name", max_lines=1, elem_id="topic-name")
            description = gr.Textbox(label="Description", lines=2, elem_id="topic-description")
            query = gr.Textbox(label="Saved query (English or 中文): papers that match it join the topic",
                               max_lines=1, elem_id="topic-query")
            create = gr.Button("Create topic", variant="primary", elem_id="topic-create")
        pick = gr.Dropdown(label="Open a topic", choices=[], elem_id="topic-pick")
        info = gr.Markdown(elem_id="topic-info")
        papers = gr.HTML(elem_id="topic-papers")
        gallery = gr.Gallery(label="Figures of its papers", columns=4, height="auto", elem_id="topic-gallery")
        overview_button = gr.Button("Build a short cited overview", elem_id="topic-overview-button")
        overview = gr.Markdown(elem_id="topic-overview")
        table = gr.Dataframe(wrap=True, elem_classes=["review-table"], elem_id="topic-table", visible=False)
        chips = gr.HTML(elem_id="topic-citations")

        def listing(chosen: str | None = None):
            topics = get_service().topics.list()
            rows = [[t.name, t.papers, t.query, t.description] for t in topics]
            names = [t.name for t in topics]
            return rows, (gr.Dropdown(choices=names, value=chosen) if chosen else gr.Dropdown(choices=names))

        def open_topic(key: str):
            if not key:
                return "", "", [], "", gr.Dataframe(visible=False), ""
            service = get_service()
            try:
                topic = service.topics.get(key)
            except TopicNotFound as exc:
                raise gr.Error(str(exc)) from exc
            members = service.topics.members(topic)
            figures = service.topics.figures(topic, k=24)
            count = f"{len(members)} paper{'' if len(members) == 1 else 's'}"
            head = (f"### {html.escape(topic.name)}\n\n{html.escape(topic.description)}\n\n"
                    f"Query: `{topic.query or '—'}` · {count} · {len(figures)} figures shown")
            items = [(f.image_path, f"{f.label} · {f.paper.title[:60]} · p. {f.page}") for f in figures]
            return head, papers_html(members), items, "", gr.Dataframe(visible=False), ""

        def create_topic(text_name: str, text_description: str, text_query: str):
            try:
                topic = get_service().topics.create(text_name, text_query, description=text_description)
            except ValueError as exc:  # empty name or query, a taken name
                raise gr.Error(str(exc)) from exc
            return listing(topic.name)  # setting the picker opens the new topic's page (pick.change)

        def build_overview(key: str):
            if not key:
                raise gr.Error("Open a topic first.")
            service = get_service()
            try:
                report = service.topics.overview(key, n=5)
            except (TopicNotFound, ValueError) as exc:
                raise gr.Error(str(exc)) from exc
            frame = (gr.Dataframe(value=[list(r) for r in report.table[1:]], headers=list(report.table[0]), visible=True)
                     if report.table else gr.Dataframe(visible=False))
            return report_markdown(report), frame, render_citations(service, report.citations)

        page = [info, papers, gallery, overview, table, chips]
        tab.select(lambda: listing(), None, [topics_table, pick])
        create.click(create_topic, [name, description, query], [topics_table, pick])
        pick.change(open_topic, pick, page)
        overview_button.click(build_overview, pick, [overview, table, chips])
