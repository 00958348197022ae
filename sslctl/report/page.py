"""The report's index.html: one self-contained page (no script, no outside resource) with the
figures, a table of the runs' probe results and each run's recipe. Every text taken from a run
is escaped, so a crafted recipe or run name cannot add markup to the page."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

GENERATOR = "sslctl report"  # marks a folder this command wrote and may replace

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
.wide { overflow-x: auto; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.7em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
figure { display: inline-block; margin: 0.5em; vertical-align: top; }
figcaption { font-size: 0.85em; color: #555; max-width: 40em; }
img { max-width: 100%; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
.note { color: #8a5a00; }
"""


@dataclass
class RunSummary:
    name: str  # as the figures' legends call it
    path: str
    recipe: str  # the run's recipe.yaml
    facts: dict[str, str]  # method, encoder, steps, final loss, ...
    probe: dict | None  # probe results, when the run had probe data


@dataclass
class Figure:
    file: str  # a PNG beside index.html
    caption: str


def _cell(value: object) -> str:
    """Scores to two decimals; a tiny or huge float (a chosen weight decay) in short form."""
    if isinstance(value, float):
        return f"{value:.2f}" if value == 0 or 0.01 <= abs(value) < 1e4 else f"{value:.3g}"
    return escape(str(value))


def _table(runs: list[RunSummary]) -> str:
    fact_keys = list(dict.fromkeys(k for r in runs for k in r.facts))
    probe_keys = list(dict.fromkeys(k for r in runs for k in (r.probe or {})))
    head = "".join(f"<th>{escape(k)}</th>" for k in ["run", *fact_keys, *probe_keys])
    rows = []
    for r in runs:
        cells = [escape(r.name)] + [_cell(r.facts.get(k, "")) for k in fact_keys]
        cells += [_cell((r.probe or {}).get(k, "")) for k in probe_keys]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f'<div class="wide"><table><tr>{head}</tr>{"".join(rows)}</table></div>'


def render(runs: list[RunSummary], figures: list[Figure], notes: list[str]) -> str:
    """The page's HTML."""
    title = "sslctl report: " + ", ".join(r.name for r in runs)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta name="generator" content="{GENERATOR}">',
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        "<h2>Runs and probes</h2>",
        _table(runs),
    ]
    parts += [f'<p class="note">{escape(n)}</p>' for n in notes]
    parts.append("<h2>Figures</h2>")
    for fig in figures:
        parts.append(
            f'<figure><img src="{escape(fig.file)}" alt="{escape(fig.caption)}">'
            f"<figcaption>{escape(fig.caption)}</figcaption></figure>"
        )
    parts.append("<h2>Recipes</h2>")
    for r in runs:
        parts.append(
            f"<details open><summary>{escape(r.name)} ({escape(r.path)})</summary>"
            f"<pre>{escape(r.recipe)}</pre></details>"
        )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
