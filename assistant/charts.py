"""Pictures of the insights: plotly figures for the web UI, PNG files (matplotlib) for the CLI.

Each chart takes the plain rows or graph that ``assistant.insights`` computes, so what is drawn is
exactly what ``souwen stats --json`` prints. PNGs are drawn with matplotlib's object API (no
pyplot state, safe in a server thread) because plotly's own PNG export needs kaleido and a
Chrome; Chinese labels use the first CJK font installed (WenQuanYi, Noto CJK) as a fallback.
Networks are laid out with networkx's spring layout under a fixed seed, so a picture is the same
every time; only the busiest nodes are drawn when a graph is large.

Leaves out: interactivity beyond plotly's hover, styling themes.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import networkx as nx
    import plotly.graph_objects as go

SEED = 7  # the spring layout's seed: the same library gives the same picture
MAX_NODES = 60  # more labelled nodes than this is a hairball on a screen
FONTS = ["DejaVu Sans", "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC", "Droid Sans Fallback"]


# -- the shapes every chart shares ------------------------------------------------------------------
def year_series(rows: Sequence[dict]) -> tuple[list[int], dict[str, list[int]]]:
    """Rows of insights.years -> (years, {group name: counts per year}), years without papers as 0."""
    years = list(range(min(r["year"] for r in rows), max(r["year"] for r in rows) + 1)) if rows else []
    series: dict[str, list[int]] = defaultdict(lambda: [0] * len(years))
    for r in rows:
        series[str(r["name"])][years.index(r["year"])] += r["papers"]
    return years, dict(series)


def bars(rows: Sequence[dict], label: str) -> tuple[list[str], list[int]]:
    """(labels, paper counts) of ranked rows, e.g. label="name" or "licence"."""
    return [str(r[label]) for r in rows], [int(r["papers"]) for r in rows]


def discipline_label(row: dict) -> str:
    return f'{row["code"]} {row["name"]}' if row["name"] != row["code"] else row["code"]


def busiest(graph: nx.Graph, limit: int = MAX_NODES) -> nx.Graph:
    """The `limit` nodes with most papers (then most links) and the links between them."""
    ranked = sorted(graph.nodes, key=lambda n: (-graph.nodes[n].get("papers", 0), -graph.degree(n), str(n)))
    return graph.subgraph(ranked[:limit]).copy()


def labelled(graph: nx.Graph, limit: int = 20) -> set:
    """The nodes worth a label: those with most papers, then most links."""
    ranked = sorted(graph.nodes, key=lambda n: (-graph.nodes[n].get("papers", 0), -graph.degree(n), str(n)))
    return set(ranked[:limit])


def layout(graph: nx.Graph) -> dict:
    import networkx as nx

    return nx.spring_layout(graph, seed=SEED, weight="weight") if len(graph) else {}


# -- plotly (the UI) ------------------------------------------------------------------------------
def years_figure(rows: Sequence[dict], title: str = "Papers per year") -> go.Figure:
    import plotly.graph_objects as go

    years, series = year_series(rows)
    fig = go.Figure([go.Bar(name=name, x=years, y=counts) for name, counts in series.items()])
    fig.update_layout(barmode="stack", title=title, xaxis_title="year", yaxis_title="papers",
                      showlegend=len(series) > 1)
    return fig


def bar_figure(labels: Sequence[str], values: Sequence[int], title: str) -> go.Figure:
    import plotly.graph_objects as go

    fig = go.Figure(go.Bar(x=list(values)[::-1], y=list(labels)[::-1], orientation="h"))
    fig.update_layout(title=title, xaxis_title="papers", height=max(300, 28 * len(labels) + 120),
                      margin={"l": 10})
    fig.update_yaxes(automargin=True)
    return fig


def licence_figure(rows: Sequence[dict]) -> go.Figure:
    import plotly.graph_objects as go

    labels, values = bars(rows, "licence")
    fig = go.Figure(go.Pie(labels=labels, values=values, hole=0.35, sort=False))
    fig.update_layout(title="Open-access licences")
    return fig


def network_figure(graph: nx.Graph, title: str) -> go.Figure:
    import plotly.graph_objects as go

    shown = busiest(graph)
    pos = layout(shown)
    xs, ys = [], []
    for a, b in shown.edges:
        xs += [pos[a][0], pos[b][0], None]
        ys += [pos[a][1], pos[b][1], None]
    nodes = list(shown.nodes)
    named = labelled(shown)
    papers = [shown.nodes[n].get("papers", 1) for n in nodes]
    names = [str(shown.nodes[n].get("name", n)) for n in nodes]
    fig = go.Figure([
        go.Scatter(x=xs, y=ys, mode="lines", line={"width": 0.6, "color": "#9aa5b1"}, hoverinfo="none"),
        go.Scatter(x=[pos[n][0] for n in nodes], y=[pos[n][1] for n in nodes], mode="markers+text",
                   text=[nm if n in named else "" for n, nm in zip(nodes, names)],
                   textposition="top center", hovertext=[f"{nm}: {p} paper(s)" for nm, p in zip(names, papers)],
                   hoverinfo="text", marker={"size": [8 + 4 * p for p in papers], "color": papers,
                                             "colorscale": "Blues", "line": {"width": 1, "color": "#334"}}),
    ])
    note = f" (the {len(shown)} busiest of {len(graph)})" if len(shown) < len(graph) else ""
    fig.update_layout(title=title + note, showlegend=False, xaxis={"visible": False}, yaxis={"visible": False},
                      height=560)
    return fig


# -- PNG (the CLI) --------------------------------------------------------------------------------
def _canvas(width: float = 8, height: float = 5):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> Path:
    path = Path(path)
    fig.tight_layout()
    tmp = path.with_name(path.name + ".tmp")
    fig.savefig(tmp, format="png")
    tmp.replace(path)
    return path


def _fonts():
    """Installed fonts of FONTS (Latin first, then a CJK fallback), quietly: matplotlib logs every
    family it cannot find, once per glyph run."""
    import logging

    import matplotlib
    from matplotlib import font_manager

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return matplotlib.rc_context({"font.family": [f for f in FONTS if f in installed] or ["sans-serif"]})


def years_png(rows: Sequence[dict], path: Path, title: str = "Papers per year") -> Path:
    import matplotlib

    with _fonts():
        years, series = year_series(rows)
        fig = _canvas()
        ax = fig.add_subplot()
        bottom = [0] * len(years)
        colours = matplotlib.colormaps["tab20"].colors  # 20 distinct colours: 一级学科 are many
        for i, (name, counts) in enumerate(series.items()):
            ax.bar(years, counts, bottom=bottom, label=name, color=colours[i % len(colours)])
            bottom = [a + b for a, b in zip(bottom, counts)]
        ax.set(title=title, xlabel="year", ylabel="papers")
        ax.yaxis.get_major_locator().set_params(integer=True)
        if len(series) > 1:
            ax.legend(fontsize=7)
        return _save(fig, path)


def bar_png(labels: Sequence[str], values: Sequence[int], path: Path, title: str) -> Path:
    with _fonts():
        fig = _canvas(8, max(3, 0.32 * len(labels) + 1.2))
        ax = fig.add_subplot()
        ax.barh(list(labels)[::-1], list(values)[::-1], color="#4c78a8")
        ax.set(title=title, xlabel="papers")
        ax.xaxis.get_major_locator().set_params(integer=True)
        return _save(fig, path)


def network_png(graph: nx.Graph, path: Path, title: str) -> Path:
    import matplotlib
    import networkx as nx

    with _fonts():
        shown = busiest(graph)
        pos = layout(shown)
        fig = _canvas(10, 8)
        ax = fig.add_subplot()
        papers = [shown.nodes[n].get("papers", 1) for n in shown.nodes]
        widths = [0.5 + shown[a][b].get("weight", 1) for a, b in shown.edges]
        nx.draw_networkx_edges(shown, pos, ax=ax, width=widths, edge_color="#9aa5b1")
        nx.draw_networkx_nodes(shown, pos, ax=ax, node_size=[40 + 60 * p for p in papers], node_color=papers,
                               cmap="Blues", edgecolors="#334")
        labels = {n: shown.nodes[n].get("name", n) for n in labelled(shown)}
        nx.draw_networkx_labels(shown, pos, labels=labels, ax=ax, font_size=7,
                                font_family=matplotlib.rcParams["font.family"])
        note = f" (the {len(shown)} busiest of {len(graph)})" if len(shown) < len(graph) else ""
        ax.set_title(title + note)
        ax.set_axis_off()
        return _save(fig, path)
