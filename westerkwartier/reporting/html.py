"""HTML of the reports: templates of report parts, export of a notebook, and the page checks.

:func:`render_template` fills a Jinja2 template of ``templates/html/`` (report sections, tables,
the index page). Autoescaping is on: every value from data or parameters is escaped by the
template engine, never by hand, and a template that names a value the caller did not pass fails
(``StrictUndefined``). :func:`export_html` uses nbconvert with the project's template (no code,
prompts, parameter cells, scripts or external URLs; ``lang="nl"``; a real title);
:func:`check_html` refuses a page with an external URL or a figure without alt text.
"""

from __future__ import annotations

import copy
import html
import logging
import re
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jinja2
import nbformat

log = logging.getLogger(__name__)

#: Folder of our templates: the nbconvert report template and the HTML parts.
TEMPLATES_DIR: Path = Path(__file__).resolve().parent / "templates"

#: Folder of the Jinja2 templates of report parts and the index page.
PARTS_DIR: Path = TEMPLATES_DIR / "html"


#: Name of the report template inside :data:`TEMPLATES_DIR`.
TEMPLATE_NAME = "wk_rapport"


#: The one style sheet of reports and index, inlined into every page.
CSS_FILE: Path = TEMPLATES_DIR / TEMPLATE_NAME / "static" / "report.css"


#: Cell tags removed from the HTML: the parameters cell, papermill's injected cell and its
#: error banner, and ``verbergen`` / ``remove-cell`` for cells an author wants kept out.
REMOVED_TAGS: frozenset[str] = frozenset(
    {"parameters", "injected-parameters", "papermill-error-cell-tag", "remove-cell", "verbergen"}
)


# ----------------------------------------------------------------------------------------------
# HTML
# ----------------------------------------------------------------------------------------------


def report_css() -> str:
    """Return the style sheet of reports and index (inlined, never linked)."""
    return CSS_FILE.read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def template_environment() -> jinja2.Environment:
    """Return the Jinja2 environment of the HTML parts (autoescape on, ``StrictUndefined``).

    Block tags on a line of their own leave no blank line behind (``trim_blocks``,
    ``lstrip_blocks``), so the templates can be laid out for reading.
    """
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(PARTS_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def render_template(name: str, /, **context: Any) -> str:
    """Fill the template ``templates/html/<name>`` and return the HTML.

    Parameters
    ----------
    name : str
        File name of the template, e.g. ``"kop.html.j2"``.
    **context
        The values the template uses; all text is escaped.

    Returns
    -------
    str

    Examples
    --------
    >>> render_template("voetnoot.html.j2", text="Bron: <CBS> & co")
    '<p class="voetnoot">Bron: &lt;CBS&gt; &amp; co</p>'
    """
    return template_environment().get_template(name).render(**context)


def _clean_for_export(nb: nbformat.NotebookNode, title: str) -> nbformat.NotebookNode:
    """Drop everything that varies between runs or must not reach partners."""
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & REMOVED_TAGS:
            continue
        cell.metadata = {"tags": sorted(tags)} if tags else {}
        if cell.cell_type == "code":
            cell.execution_count = None
            outputs = []
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    log.warning("stderr van het notebook (niet in het rapport): %s", output.text)
                    continue
                if "execution_count" in output:
                    output["execution_count"] = None
                markdown = output.get("data", {}).get("text/markdown")
                if markdown is not None:  # Markdown built from data: its HTML is text, not tags
                    text = "".join(markdown) if isinstance(markdown, list) else str(markdown)
                    output["data"]["text/markdown"] = html.escape(text, quote=False)
                outputs.append(output)
            cell.outputs = outputs
            if not outputs:
                continue  # nothing to show: leave no empty box behind
        cells.append(cell)
    for number, cell in enumerate(cells):
        cell["id"] = f"cel-{number}"
    nb.cells = cells
    nb.metadata = nbformat.NotebookNode({"title": title, "language_info": {"name": "python"}})
    return nb


def export_html(nb: nbformat.NotebookNode, *, title: str) -> str:
    """Convert an executed notebook into one self-contained HTML page.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The executed notebook.
    title : str
        The page title.

    Returns
    -------
    str
        The HTML: ``lang="nl"``, no code, prompts, parameter cells, scripts or external URLs;
        the same text for the same notebook outputs.
    """
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        mathjax_url="",
        require_js_url="",
        embed_images=True,
        anchor_link_text="",
    )
    clean = _clean_for_export(nb, title)
    resources = {"wk_css": report_css(), "metadata": {"name": title}}
    body, _ = exporter.from_notebook_node(clean, resources=resources)
    return _tidy(body)


def _tidy(text: str) -> str:
    """Strip trailing spaces and runs of blank lines (smaller, stable output)."""
    lines = [line.rstrip() for line in text.splitlines()]
    tidy: list[str] = []
    for line in lines:
        if line == "" and (not tidy or tidy[-1] == ""):
            continue
        tidy.append(line)
    return "\n".join(tidy).strip() + "\n"


_URL_PATTERNS = (
    re.compile(
        r"""\b(?:src|href|action|poster|data)\s*=\s*["']?\s*((?:https?:)?//[^"'\s>]+)""", re.I
    ),
    re.compile(r"""@import\s+(?:url\()?\s*["']?\s*((?:https?:)?//[^"')\s;]+)""", re.I),
    re.compile(r"""url\(\s*["']?\s*((?:https?:)?//[^"')\s]+)""", re.I),
    re.compile(r"""\bsrcset\s*=\s*["'][^"']*?((?:https?:)?//[^"'\s,]+)""", re.I),
)


def find_external_urls(text: str) -> list[str]:
    """List URLs a browser would fetch or follow from a page: ``src=``, ``href=``, CSS.

    Parameters
    ----------
    text : str
        HTML (with inline CSS).

    Returns
    -------
    list of str
        Every ``http://``, ``https://`` or protocol-relative ``//`` URL found, in order.

    Examples
    --------
    >>> find_external_urls('<img src="https://example.org/a.png" alt="x">')
    ['https://example.org/a.png']
    """
    found: list[str] = []
    for pattern in _URL_PATTERNS:
        found.extend(m.group(1) for m in pattern.finditer(text))
    return found


class _ImgCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[dict[str, str | None]] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append(dict(attrs))
        elif tag == "script":
            self.scripts += 1


def images_without_alt(text: str) -> int:
    """Count ``<img>`` tags whose ``alt`` is missing or empty."""
    parser = _ImgCollector()
    parser.feed(text)
    return sum(1 for img in parser.images if not (img.get("alt") or "").strip())


def check_html(text: str) -> list[str]:
    """Check a page against the house rules; return the problems in Dutch (empty when fine).

    Rules: no external URLs, every image has alt text, no scripts, ``<html lang="nl">``.
    """
    problems = []
    urls = find_external_urls(text)
    if urls:
        shown = ", ".join(sorted(set(urls))[:5])
        problems.append(
            f"{len(urls)} externe URL('s) ({shown}); rapporten moeten offline werken, "
            "dus geen links naar of bestanden van buiten"
        )
    missing = images_without_alt(text)
    if missing:
        problems.append(
            f"{missing} figuur/figuren zonder alt-tekst; toon grafieken met "
            "westerkwartier.reporting.charts.show_figure(fig, alt) in plaats van plt.show()"
        )
    parser = _ImgCollector()
    parser.feed(text)
    if parser.scripts:
        problems.append(f"{parser.scripts} script(s); rapporten bevatten geen JavaScript")
    if '<html lang="nl">' not in text:
        problems.append('geen <html lang="nl">')
    return problems
