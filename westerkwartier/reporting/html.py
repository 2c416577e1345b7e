"""HTML of the reports: templates of report parts, export of a notebook, and the page checks.

:func:`render_template` fills a Jinja2 template of ``templates/html/`` (report sections, tables,
the index page). Autoescaping is on: every value from data or parameters is escaped by the
template engine, never by hand, and a template that names a value the caller did not pass fails
(``StrictUndefined``). :func:`export_html` uses nbconvert with the project's template (no code,
prompts, parameter cells, scripts or external URLs; ``lang="nl"``; a real title);
:func:`check_html` parses a page and refuses an external URL in what a browser loads or follows,
a script, a figure without alt text, or an element written as ``<a …/>``, which a browser
leaves open.
"""

from __future__ import annotations

import copy
import hashlib
import html
import logging
import re
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import jinja2.bccache
import markupsafe

from westerkwartier.reporting.formatting import LONG_WORD, breakable

if TYPE_CHECKING:  # nbformat is imported where a page is exported, not in the report kernels
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


#: What must not break over two lines: an amount in euro with its sign, as
#: :mod:`~westerkwartier.reporting.formatting` writes it (``€ 300.500``, ``+€ 88.000``), and a
#: range of numbers with an en dash (``38,1–46,1%``, ``(5–95%)``).
WHOLE = re.compile(r"[+\-±]?€ -?\d[\d.]*(?:,\d+)?|\(?-?\d[\d.,]*%?–-?\d[\d.,]*%?\)?")


def whole_figures(text: Any) -> markupsafe.Markup:
    """Escape ``text`` and keep every amount and range on one line (a ``span.heel``).

    A narrow table column on paper broke "€" from "300.500", "+" from "€ 88.000" and "(5–"
    from "95%)"; the span (``white-space: nowrap`` in the style sheet) prevents that without
    changing the text.

    Examples
    --------
    >>> str(whole_figures("+€ 88.000 sinds 2019"))
    '<span class="heel">+€ 88.000</span> sinds 2019'
    >>> str(whole_figures("<b> € 300.500"))
    '&lt;b&gt; <span class="heel">€ 300.500</span>'
    >>> str(whole_figures("Rang (5–95%), 2024"))
    'Rang <span class="heel">(5–95%)</span>, 2024'
    """
    escaped = str(markupsafe.escape(text))
    return markupsafe.Markup(WHOLE.sub(r'<span class="heel">\g<0></span>', escaped))


#: Folder of the compiled templates inside the cache folder (:class:`CompiledTemplates`).
COMPILED_DIR: str = "sjablonen"


class CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Jinja's compiled HTML parts in the cache folder, for the next kernel.

    Compiling the 15 parts the reports use cost a new report kernel 0,11-0,17 s
    (``benchmarks/bench_text_sizes.py``); loading them compiled takes a few milliseconds.
    Jinja checks each file against its template's text and writes it atomically. The
    files are named after the template, the environment's settings and Jinja's version, so a
    changed setting cannot meet code compiled under another. A file that cannot be read (or
    is damaged) is compiled anew and one that cannot be written is skipped: the cache never
    stops a report. The folder follows :data:`westerkwartier.settings.cache_dir` at each use.
    """

    def __init__(self, settings_key: str) -> None:
        # a folder given, so that jinja2 does not make one of its own in /tmp
        super().__init__(directory="", pattern=f"{settings_key}-%s.cache")

    @property
    def directory(self) -> str:  # noqa: D102 - where jinja2 puts the files
        from westerkwartier import settings

        return str(Path(settings.cache_dir) / COMPILED_DIR)

    @directory.setter
    def directory(self, value: str) -> None:
        pass  # jinja2's __init__ sets a folder of its own choice; ours follows the settings

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:  # noqa: D102
        try:
            super().load_bytecode(bucket)
        except Exception:  # damaged (pickle, marshal or I/O): compile the template again
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:  # noqa: D102
        try:
            Path(self.directory).mkdir(parents=True, exist_ok=True)
            super().dump_bytecode(bucket)
        except OSError as err:
            log.info("Gecompileerd sjabloon niet bewaard in %s (%s).", self.directory, err)


@lru_cache(maxsize=1)
def template_environment() -> jinja2.Environment:
    """Return the Jinja2 environment of the HTML parts (autoescape on, ``StrictUndefined``).

    Block tags on a line of their own leave no blank line behind (``trim_blocks``,
    ``lstrip_blocks``), so the templates can be laid out for reading. The filter
    ``heel`` is :func:`whole_figures`; ``breakable`` is :func:`breakable_html` (long names
    break at syllables on paper, and after a slash). Compiled parts are kept in the cache
    folder (:class:`CompiledTemplates`).
    """
    options: dict[str, Any] = {
        "autoescape": True,
        "trim_blocks": True,
        "lstrip_blocks": True,
        "keep_trailing_newline": False,
    }
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(PARTS_DIR), undefined=jinja2.StrictUndefined, **options
    )
    env.filters["heel"] = whole_figures
    env.filters["breakable"] = breakable_html
    # what the compiled code depends on besides the template's text (which Jinja checks)
    key = repr(
        (jinja2.__version__, sorted(options.items()), sorted(env.filters), sorted(env.tests))
    )
    env.bytecode_cache = CompiledTemplates(hashlib.sha256(key.encode()).hexdigest()[:12])
    return env


def breakable_html(text: str, shortest: int = LONG_WORD) -> markupsafe.Markup:
    """Return ``text`` escaped, with soft hyphens in long words and ``<wbr>`` after a slash.

    A narrow column on paper then breaks "Weesperbuurt/Plantage" after the slash rather
    than inside a word. ``<wbr>`` is markup, not a character: unlike a zero-width space it
    does not end up in text copied from the page, nor in what a screen reader reads.
    ``shortest`` is passed to :func:`~westerkwartier.reporting.formatting.breakable`.

    Examples
    --------
    >>> str(breakable_html("Weesperbuurt/Plantage & Co", 20))
    'Weesperbuurt/<wbr>Plantage &amp; Co'
    """
    escaped = markupsafe.escape(breakable(str(text), shortest))
    return markupsafe.Markup(escaped.replace("/", markupsafe.Markup("/<wbr>")))


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


#: A line as Python's warnings module prints it: ``path:line: SomeWarning: message``.
_WARNING_LINE = re.compile(r"^\S.*?:\d+: (?:\w+\.)*\w*Warning: (?P<message>.*)$")


def notebook_notices(text: str) -> list[str]:
    r"""Turn what a report notebook wrote to stderr into lines for the person running it.

    A warning becomes ``Let op: <message>`` without the file, line and source line that
    Python prints with it; each notice appears once. Anything else is kept as it is, marked
    as coming from the notebook (it is never part of the report).

    Examples
    --------
    >>> notebook_notices(
    ...     "/x/panel.py:3: SnapshotFallbackWarning: CBS is niet bereikbaar\n"
    ...     "  return get_table(t)\n"
    ... )
    ['Let op: CBS is niet bereikbaar']
    >>> notebook_notices("iets anders\n")
    ['stderr van het notebook (niet in het rapport): iets anders']
    """
    notices: list[str] = []
    other: list[str] = []
    lines = text.splitlines()
    skip_source = False
    for line in lines:
        match = _WARNING_LINE.match(line)
        if match:
            notice = f"Let op: {match['message'].strip()}"
            if notice not in notices:
                notices.append(notice)
            skip_source = True
            continue
        if skip_source and line.startswith((" ", "\t")):
            skip_source = False
            continue  # the source line Python prints under a warning
        skip_source = False
        if line.strip():
            other.append(line)
    if other:
        notices.append("stderr van het notebook (niet in het rapport): " + "\n".join(other))
    return notices


def _clean_for_export(nb: nbformat.NotebookNode, title: str) -> nbformat.NotebookNode:
    """Drop everything that varies between runs or must not reach partners."""
    # imported here: with jsonschema's format checks nbformat takes about 1 s to import, which
    # every report kernel would pay for nothing (kernels render parts, they export no pages)
    import nbformat

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
                    for line in notebook_notices(str(output.text)):
                        log.warning("%s", line)
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


#: How a report page is exported: the traits of nbconvert's ``HTMLExporter`` besides
#: ``embed_images`` (see :func:`_exporter`).
EXPORT_OPTIONS: dict[str, Any] = {
    "template_name": TEMPLATE_NAME,
    "extra_template_basedirs": [str(TEMPLATES_DIR)],
    "exclude_input": True,
    "exclude_input_prompt": True,
    "exclude_output_prompt": True,
    "mathjax_url": "",
    "require_js_url": "",
    "anchor_link_text": "",
    # validate the notebook once after all preprocessors, not after each of the twelve
    # (13 ms of a report's 33; the same page, and an invalid notebook still fails)
    "optimistic_validation": True,
}


@lru_cache(maxsize=2)
def _exporter(*, embed_images: bool) -> Any:
    """Return the HTML exporter, made once per process: templates compile once (0,25 s a page).

    Embedding images parses the whole page (0,2 s) to inline pictures that Markdown cells
    link to; the report's own figures are inline already, so that is done only for a
    notebook whose Markdown has a picture.
    """
    return _page_exporter_class()(embed_images=embed_images, **EXPORT_OPTIONS)


@lru_cache(maxsize=1)
def _page_exporter_class() -> type:
    """Return nbconvert's HTML exporter without its second pass over the finished page.

    ``HTMLExporter`` parses every page it has rendered with BeautifulSoup and writes it out
    again (0,12 s of CPU for a 700 kB report) for two things a report page does not need:
    an English placeholder for an ``<img>`` without an ``alt`` attribute (our template
    writes one on every figure, and :func:`check_html` refuses it empty) and ``tabindex``
    on JupyterLab's cell classes, which our classic-based template does not produce. This
    exporter registers the same filters and renders the same template; only that pass is
    left out (``tests/test_templates.py`` compares the page with nbconvert's own). The pass
    also closed the heading anchors nbconvert writes as XML (``<a … />``); :func:`export_html`
    does that with :func:`open_empty_elements`, and :func:`check_html` refuses what is left.
    """
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class PageExporter(HTMLExporter):
        def from_notebook_node(  # type: ignore[override]  # as nbconvert's own
            self, nb: nbformat.NotebookNode, resources: dict[str, Any] | None = None, **kw: Any
        ) -> tuple[str, dict[str, Any]]:
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight = self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)
            )
            resources = self._init_resources(resources)
            data_types = WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources
            )
            self.register_filter("highlight_code", highlight)
            self.register_filter("filter_data_type", data_types)
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return PageExporter


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
    clean = _clean_for_export(nb, title)
    embed = any(
        cell.cell_type == "markdown" and ("<img" in cell.source or "![" in cell.source)
        for cell in clean.cells
    )
    exporter = _exporter(embed_images=embed)
    resources = {"wk_css": report_css(), "metadata": {"name": title}}
    body, _ = exporter.from_notebook_node(clean, resources=resources)
    return _tidy(add_contents(title_with_year(open_empty_elements(body))))


#: Elements that HTML writes without an end tag (``<br>``, ``<img …>``).
VOID_ELEMENTS: frozenset[str] = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }
)

_TAG_NAME = re.compile(r"<([A-Za-z][\w:-]*)")


def open_empty_elements(page: str) -> str:
    """Write an empty element that is not void as ``<a …></a>`` instead of ``<a …/>``.

    nbconvert serialises the anchor link of every Markdown heading as XML, ``<a
    class="anchor-link" href="#…" />``. A browser reads that as an opening tag only: the
    rest of the page then sits inside the link (headings without text, blank printed
    pages). Void elements (:data:`VOID_ELEMENTS`) keep their form.

    Examples
    --------
    >>> open_empty_elements('<h2 id="x">X<a class="anchor-link" href="#x" /></h2><br />')
    '<h2 id="x">X<a class="anchor-link" href="#x"></a></h2><br />'
    """
    parts: list[str] = []
    done = 0  # the page up to here is in parts
    end = page.find("/>")
    while end != -1:  # a few hundred "/>" in a page: cheaper than a pattern over 700 kB
        start = page.rfind("<", done, end)
        name = _TAG_NAME.match(page, start) if start != -1 else None
        if (
            name is not None
            and name.group(1).lower() not in VOID_ELEMENTS
            and page.find(">", start, end) == -1  # the "/>" ends this very tag
        ):
            parts += [page[done:start], page[start:end].rstrip(), f"></{name.group(1)}>"]
            done = end + 2
        end = page.find("/>", end + 2)
    parts.append(page[done:])
    return "".join(parts)


def title_with_year(page: str) -> str:
    """Add the report's reference year (its header's ``data-peiljaar``) to the page title.

    ``Talent in Westerkwartier — regionale monitor`` becomes ``Talent in Westerkwartier,
    2023 — regionale monitor``; a title that has the year, or a page without it, stays.
    """
    year = re.search(r'data-peiljaar="(\d{4})"', page)
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    if year is None or title is None or year.group(1) in title.group(1):
        return page
    text = title.group(1)
    head, sep, tail = text.partition(" — ")
    new = f"{head}, {year.group(1)}{sep}{tail}"
    return page[: title.start(1)] + new + page[title.end(1) :]


#: Sections whose heading starts with this are appendices (after the main text).
APPENDIX_PREFIX = "Bijlage"

_H2 = re.compile(r'<h2 id="([^"]+)"[^>]*>(.*?)</h2>', re.S)


def add_contents(page: str) -> str:
    """Add a table of contents with a link to every section (``h2`` with an ``id``).

    The list goes after page 1 (the section "In één oogopslag") or, without it, after the
    report's header; the appendices (headings starting with "Bijlage") are a second list. A
    page with fewer than three sections, or without a report header, is left as it is. The
    contents are for the screen; print hides them.
    """
    found = [(anchor, re.sub(r"<[^>]+>", "", text).strip()) for anchor, text in _H2.findall(page)]
    found = [(a, t) for a, t in found if t]
    if len(found) < 3 or 'class="rapport-kop"' not in page:
        return page
    main = [(a, t) for a, t in found if not t.startswith(APPENDIX_PREFIX)]
    appendices = [(a, t) for a, t in found if t.startswith(APPENDIX_PREFIX)]
    nav = render_template("inhoud.html.j2", main=main, appendices=appendices)
    end = page.find("</section>", page.find('class="oogopslag"'))
    if 'class="oogopslag"' in page and end > 0:
        cut = end + len("</section>")
    else:
        cut = page.find("</header>") + len("</header>")
    # after the output box that holds the section (its closing div tags)
    closing = re.match(r"(\s*</div>)*", page[cut:])
    cut += closing.end() if closing else 0
    return page[:cut] + "\n" + nav + page[cut:]


def _tidy(text: str) -> str:
    """Strip trailing spaces and runs of blank lines (smaller, stable output)."""
    lines = [line.rstrip() for line in text.splitlines()]
    tidy: list[str] = []
    for line in lines:
        if line == "" and (not tidy or tidy[-1] == ""):
            continue
        tidy.append(line)
    return "\n".join(tidy).strip() + "\n"


#: Attributes whose value a browser fetches or follows (a URL, or a list of them).
_URL_ATTRIBUTES = frozenset(
    {
        "src",
        "href",
        "xlink:href",
        "action",
        "formaction",
        "poster",
        "data",
        "background",
        "cite",
        "longdesc",
        "manifest",
        "ping",
        "srcset",
        "imagesrcset",
    }
)

#: ``url(...)`` and ``@import "..."`` in CSS (a ``<style>`` element or a ``style`` attribute).
_CSS_URL = re.compile(
    r"""url\(\s*(["']?)\s*([^"')\s]+)\s*\1\s*\)|@import\s+(["'])\s*([^"']+)\3""", re.I
)

#: A target that leaves the page: a scheme other than ``data:`` or a protocol-relative URL.
_EXTERNAL = re.compile(r"^\s*(?://|[a-z][a-z0-9+.-]*:)", re.I)

#: Schemes that load nothing from elsewhere.
_INSIDE = ("data:", "mailto:", "tel:")


def is_external(target: str) -> bool:
    """Tell whether a link or source would make a browser go outside the page.

    ``data:`` URIs, anchors and relative paths stay inside (and ``mailto:`` / ``tel:`` load
    nothing); ``https://``, ``//host``, ``file:``, ``javascript:`` and any other scheme do not.

    Examples
    --------
    >>> is_external("GM1969/talent.html"), is_external("#samenvatting"), is_external("data:,")
    (False, False, False)
    >>> is_external("//example.org/a.png"), is_external("file:///etc/passwd")
    (True, True)
    """
    text = target.strip().lower()
    return bool(_EXTERNAL.match(text)) and not text.startswith(_INSIDE)


def _css_targets(css: str) -> list[str]:
    return [m.group(2) or m.group(4) for m in _CSS_URL.finditer(css)]


class _PageReader(HTMLParser):
    """Read what the house rules look at: tags, attributes, styles and scripts, not text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.targets: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self.scripts = 0
        self.lang: str | None = None
        self.self_closed: list[str] = []  # "<a …/>" in HTML: a browser leaves it open
        self._in_style = False
        self._foreign = 0  # inside <svg> or <math>, where "<path/>" is fine

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): value or "" for name, value in attrs}
        if tag == "html" and self.lang is None:
            self.lang = values.get("lang", "")
        elif tag == "img":
            self.images.append(dict(attrs))
        elif tag == "script":
            self.scripts += 1
        elif tag == "style":
            self._in_style = True
        elif tag in {"svg", "math"}:
            self._foreign += 1
        elif tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            m = re.search(r"url\s*=\s*['\"]?([^'\";]+)", values.get("content", ""), re.I)
            if m:
                self.targets.append(m.group(1))
        for name, value in values.items():
            if name in {"srcset", "imagesrcset"}:
                self.targets.extend(part.split()[0] for part in value.split(",") if part.split())
            elif name in _URL_ATTRIBUTES:
                self.targets.append(value)
            elif name == "style":
                self.targets.extend(_css_targets(value))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "style":
            self._in_style = False
        elif tag in {"svg", "math"}:
            self._foreign -= 1
        elif tag not in VOID_ELEMENTS and not self._foreign:
            self.self_closed.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False
        elif tag in {"svg", "math"} and self._foreign:
            self._foreign -= 1

    def handle_data(self, data: str) -> None:
        if self._in_style:  # CSS, not text: HTMLParser gives <style> content as raw data
            self.targets.extend(_css_targets(data))


def _read_page(text: str) -> _PageReader:
    reader = _PageReader()
    reader.feed(text)
    reader.close()
    return reader


def find_external_urls(text: str) -> list[str]:
    """List URLs a browser would fetch or follow from a page.

    The page is parsed: only attributes that load or link something (``src``, ``href``,
    ``srcset``, ``action``, ``poster``, ``data``, ...), CSS in ``<style>`` elements and
    ``style`` attributes (``url()``, ``@import``) and a ``<meta http-equiv="refresh">`` count.
    Text on the page may mention a URL: it is shown, never fetched.

    Parameters
    ----------
    text : str
        HTML (with inline CSS).

    Returns
    -------
    list of str
        Every target outside the page (see :func:`is_external`), in order.

    Examples
    --------
    >>> find_external_urls('<img src="https://example.org/a.png" alt="x">')
    ['https://example.org/a.png']
    >>> find_external_urls("<p>Zie url(https://example.org) of https://cbs.nl</p>")
    []
    """
    return [target.strip() for target in _read_page(text).targets if is_external(target)]


def images_without_alt(text: str) -> int:
    """Count ``<img>`` tags whose ``alt`` is missing or empty."""
    return sum(1 for img in _read_page(text).images if not (img.get("alt") or "").strip())


def check_html(text: str) -> list[str]:
    """Check a page against the house rules; return the problems in Dutch (empty when fine).

    Rules: no external URLs in what a browser loads or follows, every image has alt text, no
    scripts, ``<html lang="nl">``, and no element other than a void one written as ``<a …/>``
    (outside SVG and MathML), which a browser leaves open. The document is parsed, so escaped
    text that mentions a URL or a tag is fine.
    """
    page = _read_page(text)
    problems = []
    urls = [target.strip() for target in page.targets if is_external(target)]
    if urls:
        shown = ", ".join(sorted(set(urls))[:5])
        problems.append(
            f"{len(urls)} externe URL('s) ({shown}); rapporten moeten offline werken, "
            "dus geen links naar of bestanden van buiten"
        )
    missing = sum(1 for img in page.images if not (img.get("alt") or "").strip())
    if missing:
        problems.append(
            f"{missing} figuur/figuren zonder alt-tekst; toon grafieken met "
            "westerkwartier.reporting.charts.show_figure(fig, alt) in plaats van plt.show()"
        )
    if page.scripts:
        problems.append(f"{page.scripts} script(s); rapporten bevatten geen JavaScript")
    if page.lang != "nl":
        problems.append('geen <html lang="nl">')
    if page.self_closed:
        tags = ", ".join(sorted({f"<{tag} …/>" for tag in page.self_closed}))
        problems.append(
            f"{len(page.self_closed)} element(en) als {tags} geschreven; een browser sluit "
            "die niet, zodat de rest van de pagina erin valt (schrijf <a …></a>, zie "
            "html.open_empty_elements)"
        )
    return problems
