"""The Gradio UI, mounted at /ui on the API app: Ask (a streamed chat with citation chips),
Library (upload with progress through the API's ingest queue, list, filter, delete, metadata and
figures), Figures (keyword search, a gallery; clicking a figure shows its caption and opens its
paper) and Review (several papers or a topic -> summary, key points, comparison table).

It calls the same service object as the API and the CLI (passed in by ``app.py``), so an answer in
the browser is the answer of ``souwen ask``. Citation chips are ``<details>`` elements: clicking one
shows the quote, the https://doi.org/ link and a link that opens the stored PDF at the cited page
(``../papers/{id}/pdf#page=N``, the API route, relative to /ui); a passage that is a figure caption
also shows the figure's thumbnail. Only this module imports Gradio.
"""
from __future__ import annotations

import html
import time
from collections.abc import Callable
from pathlib import Path

import gradio as gr

from assistant.citations import doi_link
from assistant.jobs import UPLOADS, IngestJobs, Job, store_uploads
from assistant.retrieval import Filters
from assistant.service import Souwen
from assistant.summaries import Report
from assistant.types import Answer, Citation

# Works on a phone: chips wrap, tables scroll sideways instead of widening the page.
CSS = """
.cite-chips { display: flex; flex-wrap: wrap; gap: 6px; }
.cite-chip { border: 1px solid #c7d2fe; border-radius: 12px; padding: 2px 10px; background: #eef2ff; max-width: 100%; }
.cite-chip summary { cursor: pointer; font-weight: 600; }
.cite-chip blockquote { margin: 6px 0; font-style: italic; overflow-wrap: anywhere; }
.cite-chip img { max-width: 100%; height: auto; display: block; margin-top: 4px; }
.review-table { overflow-x: auto; }
"""


def render_citations(service: Souwen, citations: tuple[Citation, ...] | list[Citation]) -> str:
    """Citation chips as HTML (escaped: quotes come from PDFs and are data, never markup)."""
    if not citations:
        return ""
    chips = []
    for c in citations:
        title = html.escape(c.title or c.doi or c.paper_id)
        doi = doi_link(c.doi)
        links = [f'<a class="doi-link" href="{html.escape(doi)}" target="_blank" rel="noopener">{html.escape(doi)}</a>'] if doi else []
        paper = service.library.catalogue.paper(c.paper_id)
        if paper is not None and paper.source == "record":  # no PDF here: link the open-access copy, if any
            if paper.oa_url:
                links.append(f'<a class="oa-link" href="{html.escape(paper.oa_url)}" target="_blank" '
                             f'rel="noopener">OA full text</a>')
        else:
            links.append(f'<a class="pdf-link" href="../papers/{html.escape(c.paper_id)}/pdf#page={c.page}" '
                         f'target="_blank" rel="noopener">PDF p. {c.page}</a>')
        figure = _figure_for(service, c)
        thumb = f'<img alt="figure" src="../figures/{html.escape(figure)}">' if figure else ""
        chips.append(f'<details class="cite-chip" data-n="{c.n}"><summary>[{c.n}] {title}, p. {c.page}</summary>'
                     f'<blockquote>{html.escape(c.quote)}</blockquote>{" · ".join(links)}{thumb}</details>')
    return f'<div class="cite-chips">{"".join(chips)}</div>'


def _figure_for(service: Souwen, c: Citation) -> str:
    """The id of the figure whose caption the cited quote comes from, if any."""
    chunk = service.library.catalogue.chunks_by_id([c.chunk_id]).get(c.chunk_id)
    if chunk is None or chunk.kind != "caption":
        return ""
    for figure in service.library.catalogue.figures(c.paper_id):
        if figure["page"] == c.page and figure["caption"] and c.quote[:40] in figure["caption"]:
            return figure["id"]
    return ""


def answer_markdown(answer: Answer) -> str:
    text = answer.text
    if answer.abstained and answer.closest:
        text += "\n\nClosest papers:\n" + "\n".join(
            f"- {p.title or p.id} ({p.year or 'n.d.'}) {doi_link(p.doi)}" for p in answer.closest)
    if answer.unsupported:
        text += f"\n\n_{len(answer.unsupported)} of {answer.checked} sentences were not supported by their passages._"
    return text


def report_markdown(report: Report) -> str:
    parts = [f"### {report.title}"]
    parts += [f"**{heading}**\n\n{body}" for heading, body in report.sections]
    return "\n\n".join(parts)


def build_ui(get_service: Callable[[], Souwen], get_jobs: Callable[[], IngestJobs] | None = None) -> gr.Blocks:
    """The UI over `get_service()`; uploads go to `get_jobs()` (the API's ingest queue), or are
    ingested in a private queue when the UI runs without the API."""
    private: list[IngestJobs] = []

    def submit_uploads(paths: list[Path]) -> Job:
        if get_jobs is not None:
            jobs = get_jobs()
        else:
            if not private:
                private.append(IngestJobs(lambda path: get_service().ingest([path])))
                private[0].start()
            jobs = private[0]
        root = Path(get_service().settings.library) / UPLOADS
        handles = [open(path, "rb") for path in paths]
        try:
            folder, stored = store_uploads([(path.name, handle) for path, handle in zip(paths, handles)], root)
        finally:
            for handle in handles:
                handle.close()
        return jobs.submit(folder, stored)

    with gr.Blocks(title="Souwen 搜问") as ui:
        gr.Markdown("## Souwen 搜问 — ask your open-access papers")
        with gr.Tab("Ask", id="ask"):
            chat = gr.Chatbot(label="Answers cite every sentence", height=420, elem_id="chat")
            history = gr.State([])
            with gr.Row():
                question = gr.Textbox(placeholder="Ask a question in English or 中文", show_label=False, scale=5,
                                      elem_id="question")
                send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask-button")
            chips = gr.HTML(elem_id="citations")

            def ask(text: str, messages: list, turns: list):
                service = get_service()
                text = (text or "").strip()
                if not text:
                    raise gr.Error("Type a question first.")
                messages = messages + [{"role": "user", "content": text}, {"role": "assistant", "content": ""}]
                streamed = ""
                try:
                    for piece in service.ask_stream(text, history=turns):
                        if isinstance(piece, Answer):
                            messages[-1]["content"] = answer_markdown(piece)
                            yield "", messages, turns + [piece], render_citations(service, piece.citations)
                        else:
                            streamed += piece
                            messages[-1]["content"] = streamed
                            yield "", messages, turns, ""
                except ValueError as exc:
                    raise gr.Error(str(exc)) from exc

            send.click(ask, [question, chat, history], [question, chat, history, chips])
            question.submit(ask, [question, chat, history], [question, chat, history, chips])
            gr.Button("New conversation", size="sm").click(lambda: ([], [], ""), None, [chat, history, chips])

        with gr.Tab("Library", id="library"):
            uploads = gr.File(label="Upload PDFs", file_count="multiple", file_types=[".pdf"], elem_id="upload")
            ingest_button = gr.Button("Add to library", variant="primary", elem_id="ingest-button")
            ingest_log = gr.Markdown(elem_id="ingest-log")
            search = gr.Textbox(label="Filter by title, DOI or year", elem_id="filter")
            from assistant.disciplines import first_level

            discipline = gr.Dropdown(label="学科 (discipline)", value="", elem_id="discipline-filter",
                                     choices=[("All disciplines", "")] + [(f"{d.code} {d.zh} {d.en}", d.code)
                                                                          for d in first_level()])
            papers = gr.Dataframe(headers=["id", "doi", "year", "title", "pages", "figures"], interactive=False,
                                  wrap=True, elem_id="papers")
            with gr.Row():
                key = gr.Textbox(label="DOI or id", scale=3, elem_id="paper-key")
                show = gr.Button("Show", scale=1)
                delete = gr.Button("Delete", variant="stop", scale=1)
            details = gr.Markdown()
            gallery = gr.Gallery(label="Figures", columns=3, height="auto")

            def list_papers(text: str = "", code: str = ""):
                text = (text or "").strip().lower()
                chosen = Filters(disciplines=(code,)) if code else Filters()
                rows = [[p.id, p.doi, p.year or "", p.title, p.pages, p.figures] for p in get_service().papers(chosen)]
                return [r for r in rows if not text or any(text in str(v).lower() for v in r[:4])]

            def ingest(files, progress=gr.Progress()):
                if not files:
                    raise gr.Error("Choose one or more PDF files first.")
                paths = [Path(f if isinstance(f, str) else f.name) for f in files]
                # The API's job queue: one ingest at a time (uploads from the API and the UI never
                # parse at once), in the background, at a lower CPU priority than questions.
                job = submit_uploads(paths)
                while job.status in ("queued", "running"):
                    progress(len(job.outcomes) / len(paths), desc=f"Ingesting {len(job.outcomes)}/{len(paths)}")
                    time.sleep(0.5)
                lines = [f"- **{o['status']}** {html.escape(o['name'])}"
                         + (f": {html.escape(o['reason'])}" if o["reason"] else "")
                         + (f" — {o['doi'] or 'no DOI'}, {o['pages']} pages" if o["status"] in ("added", "replaced") else "")
                         for o in job.outcomes]
                if job.error:
                    lines.append(f"- **failed**: {html.escape(job.error)}")
                return "\n".join(lines), list_papers()

            def show_paper(k: str):
                service = get_service()
                info = service.show(k.strip())
                p = info["paper"]
                text = (f"### {p.title}\n\n{', '.join(p.authors)} ({p.year or 'n.d.'}) {p.venue}\n\n"
                        f"{doi_link(p.doi)}\n\n{p.abstract[:1200]}")
                return text, [(f["image_path"], f"{f['label']} {f['caption'][:80]}") for f in info["figures"]]

            def delete_paper(k: str):
                removed = get_service().remove([k.strip()])
                return f"Deleted {', '.join(p.title or p.id for p in removed)}", list_papers()

            ingest_button.click(ingest, uploads, [ingest_log, papers])
            search.change(list_papers, [search, discipline], papers)
            discipline.change(list_papers, [search, discipline], papers)
            show.click(_guard(show_paper), key, [details, gallery])
            delete.click(_guard(delete_paper), key, [details, papers])
            ui.load(list_papers, None, papers)

        with gr.Tab("Figures", id="figures"):
            figure_query = gr.Textbox(label="Find figures by keywords (English or 中文)", elem_id="figure-query")
            figure_gallery = gr.Gallery(label="Figures", columns=3, height="auto", elem_id="figure-gallery")
            figure_info = gr.Markdown(elem_id="figure-info")
            found = gr.State([])

            def find_figures(text: str):
                try:
                    hits = get_service().figures(text, k=12)
                except ValueError as exc:
                    raise gr.Error(str(exc)) from exc
                items = [(h.image_path, f"{h.label} · {h.paper.title[:60]} · p. {h.page}") for h in hits]
                return items, [(h.caption, h.paper.title, h.paper.doi, h.paper.id, h.page) for h in hits], \
                    f"{len(hits)} figures" if hits else "No figure matches."

            def open_figure(hits: list, event: gr.SelectData):
                caption, title, doi, paper_id, page = hits[event.index]
                link = f"[{doi}]({doi_link(doi)}) · " if doi else ""
                return (f"**{html.escape(caption)}**\n\n{html.escape(title)} — {link}"
                        f"[PDF p. {page}](../papers/{paper_id}/pdf#page={page})")

            figure_query.submit(find_figures, figure_query, [figure_gallery, found, figure_info])
            figure_gallery.select(open_figure, found, figure_info)

        with gr.Tab("Review", id="review"):
            choose = gr.Dropdown(label="Papers", multiselect=True, choices=[], elem_id="review-papers")
            topic = gr.Textbox(label="…or a topic", elem_id="review-topic")
            count = gr.Slider(1, 10, value=5, step=1, label="Key points / papers")
            with gr.Row():
                summarize = gr.Button("Summarize", variant="primary", elem_id="summarize-button")
                keypoints = gr.Button("Key points", elem_id="keypoints-button")
                review = gr.Button("Review topic", elem_id="review-button")
            report = gr.Markdown(elem_id="report")
            table = gr.Dataframe(wrap=True, elem_classes=["review-table"], elem_id="review-table", visible=False)
            report_chips = gr.HTML()

            def paper_choices():
                return gr.Dropdown(choices=[(f"{p.title[:80]} ({p.doi or p.id})", p.id) for p in get_service().papers()])

            def run(kind: str, ids: list, subject: str, n: float):
                service = get_service()
                if kind == "review":
                    result = service.review(subject, n=int(n), filters=Filters())
                elif not ids:
                    raise gr.Error("Pick at least one paper.")
                elif kind == "summary":
                    result = service.summarize(ids)
                else:
                    result = service.keypoints(ids, n=int(n))
                if result.table:
                    frame = gr.Dataframe(value=[list(r) for r in result.table[1:]], headers=list(result.table[0]),
                                         visible=True)
                else:
                    frame = gr.Dataframe(visible=False)
                return report_markdown(result), frame, render_citations(service, result.citations)

            outputs = [report, table, report_chips]
            summarize.click(_guard(lambda ids, s, n: run("summary", ids, s, n)), [choose, topic, count], outputs)
            keypoints.click(_guard(lambda ids, s, n: run("keypoints", ids, s, n)), [choose, topic, count], outputs)
            review.click(_guard(lambda ids, s, n: run("review", ids, s, n)), [choose, topic, count], outputs)
            ui.load(paper_choices, None, choose)
        from assistant import ui_insights, ui_topics

        ui_topics.build_tab(get_service)
        ui_insights.build_tab(get_service)
    return ui


def _guard(fn):
    """Show a readable message for bad input (unknown DOI, empty topic) instead of a stack trace."""
    from assistant.service import PaperNotFound

    def wrapped(*args):
        try:
            return fn(*args)
        except (ValueError, PaperNotFound) as exc:
            raise gr.Error(str(exc)) from exc

    return wrapped
