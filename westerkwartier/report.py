"""Run parameterised notebooks and turn them into self-contained Dutch HTML reports.

The runner validates parameters against the notebook's ``parameters`` cell, executes it with
papermill (kernel ``python3``, a time-out per cell), and exports the result with nbconvert into
one HTML file without code, prompts, parameters, scripts or external URLs. The same notebook
with the same parameters and data gives the same bytes. A notebook that fails is saved aside
(``reports/_failed``) and never published.

Examples
--------
>>> from pathlib import Path
>>> run_notebook(  # doctest: +SKIP
...     Path("notebooks/talent.ipynb"),
...     Path("reports/GM1969/talent.html"),
...     {"gemeente": "GM1969", "peildatum": "2025-03-01"},
...     title="Talent in Westerkwartier",
... )
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import html
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat

from .errors import ParameterError, ReportFailed

log = logging.getLogger(__name__)

#: Folder of our nbconvert templates.
TEMPLATES_DIR: Path = Path(__file__).resolve().parent / "templates"
#: Name of the report template inside :data:`TEMPLATES_DIR`.
TEMPLATE_NAME = "wk_rapport"
#: The one style sheet of reports and index, inlined into every page.
CSS_FILE: Path = TEMPLATES_DIR / TEMPLATE_NAME / "static" / "report.css"

#: Cell tags removed from the HTML: the parameters cell, papermill's injected cell and its
#: error banner, and ``verbergen`` / ``remove-cell`` for cells an author wants kept out.
REMOVED_TAGS: frozenset[str] = frozenset(
    {"parameters", "injected-parameters", "papermill-error-cell-tag", "remove-cell", "verbergen"}
)

_TYPE_NAMES_NL = {
    "str": "tekst (str)",
    "int": "geheel getal (int)",
    "float": "getal (float)",
    "bool": "True of False (bool)",
    "list": "lijst (list)",
    "dict": "woordenboek (dict)",
    "tuple": "tupel (tuple)",
    "NoneType": "None",
}


# ----------------------------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotebookParameter:
    """One parameter declared in a notebook's ``parameters`` cell.

    Attributes
    ----------
    name : str
        Variable name.
    type_name : str
        The annotation as written (``"str"``, ``"int | None"``), or ``"None"`` when absent.
    default : str
        The default value as written in the cell.
    help : str
        The help comment.
    """

    name: str
    type_name: str
    default: str
    help: str

    def describe(self) -> str:
        """Return ``name (type, standaard default): help`` for messages and ``--help``."""
        text = f"{self.name} ({self.type_name}, standaard {self.default})"
        return f"{text}: {self.help}" if self.help else text


def notebook_parameters(notebook: Path) -> dict[str, NotebookParameter]:
    """Read the parameters a notebook declares, through ``papermill.inspect_notebook``.

    Parameters
    ----------
    notebook : Path
        The ``.ipynb`` file.

    Returns
    -------
    dict of str to NotebookParameter
        In the order of the ``parameters`` cell.

    Raises
    ------
    westerkwartier.errors.InputError
        When the notebook does not exist.
    """
    import papermill

    notebook = Path(notebook)
    if not notebook.is_file():
        raise ParameterError(
            f"Notebook {notebook} bestaat niet. Controleer het pad of de naam van het rapport."
        )
    inspected = papermill.inspect_notebook(str(notebook))
    return {
        name: NotebookParameter(
            name=name,
            type_name=str(info.get("inferred_type_name") or "None"),
            default=str(info.get("default") or ""),
            help=str(info.get("help") or ""),
        )
        for name, info in inspected.items()
    }


def _allowed_types(type_name: str) -> tuple[type, ...] | None:
    """Python types accepted for an annotation; None when the annotation is not checked."""
    text = type_name.strip()
    if text in {"", "None", "Any", "typing.Any"}:
        return None
    optional = re.fullmatch(r"(?:typing\.)?Optional\[(.*)\]", text)
    if optional:
        text = f"{optional.group(1)} | None"
    allowed: list[type] = []
    for part in text.split("|"):
        base = re.sub(r"\[.*\]$", "", part.strip()).removeprefix("typing.").lower()
        mapping: dict[str, tuple[type, ...]] = {
            "str": (str,),
            "int": (int,),
            "float": (float, int),
            "bool": (bool,),
            "list": (list, tuple),
            "dict": (dict,),
            "tuple": (tuple, list),
            "none": (type(None),),
        }
        if base not in mapping:
            return None  # an annotation we do not know: do not guess
        allowed.extend(mapping[base])
    return tuple(dict.fromkeys(allowed))


def _type_matches(value: Any, allowed: tuple[type, ...]) -> bool:
    if isinstance(value, bool):  # bool is an int subclass: only accept it for bool
        return bool in allowed
    return isinstance(value, allowed)


def validate_parameters(
    notebook: Path,
    parameters: Mapping[str, Any],
    declared: Mapping[str, NotebookParameter] | None = None,
) -> dict[str, Any]:
    """Check parameter names and types against the notebook's ``parameters`` cell.

    papermill itself only warns about an unknown name and injects it anyway, so a typo would
    silently produce a report with the default value. This raises instead.

    Parameters
    ----------
    notebook : Path
        The notebook.
    parameters : mapping
        Name -> value, as passed to papermill.
    declared : mapping, optional
        The result of :func:`notebook_parameters`, when already read.

    Returns
    -------
    dict
        The parameters, as a plain dict.

    Raises
    ------
    westerkwartier.errors.ParameterError
        For an unknown name (with suggestions and the list of valid names) or a value of the
        wrong type.
    """
    declared = notebook_parameters(notebook) if declared is None else declared
    valid = "; ".join(p.describe() for p in declared.values()) or "(geen)"
    for name, value in parameters.items():
        if name not in declared:
            close = difflib.get_close_matches(name, list(declared), n=3, cutoff=0.6)
            hint = f" Bedoelde u {' of '.join(repr(c) for c in close)}?" if close else ""
            raise ParameterError(
                f"Onbekende parameter {name!r} voor notebook {Path(notebook).name}.{hint} "
                f"Geldige parameters: {valid}.",
                name=name,
                valid=list(declared),
            )
        allowed = _allowed_types(declared[name].type_name)
        if allowed is not None and not _type_matches(value, allowed):
            expected = " of ".join(
                _TYPE_NAMES_NL.get(t.__name__, t.__name__)
                for t in allowed
                if not (t is int and float in allowed)  # "getal" covers whole numbers
            )
            raise ParameterError(
                f"Parameter {name!r} van notebook {Path(notebook).name} verwacht "
                f"{expected}, maar kreeg {value!r} "
                f"({type(value).__name__}). Geldige parameters: {valid}.",
                name=name,
                valid=list(declared),
            )
    return dict(parameters)


def coerce_parameters(notebook: Path, raw: Mapping[str, str]) -> dict[str, Any]:
    """Turn text values (from a command line) into the types the notebook declares.

    Parameters
    ----------
    notebook : Path
        The notebook.
    raw : mapping of str to str
        Name -> text, e.g. ``{"jaar": "2023", "gemeente": "GM1969"}``.

    Returns
    -------
    dict
        Name -> value of the declared type (``int``, ``float``, ``bool``, ``str``; other
        annotations get the text unchanged).

    Raises
    ------
    westerkwartier.errors.ParameterError
        For an unknown name or a text that is not a value of the declared type.
    """
    declared = notebook_parameters(notebook)
    validate_parameters(notebook, dict.fromkeys(raw, None), _untyped(declared))
    result: dict[str, Any] = {}
    for name, text in raw.items():
        kind = declared[name].type_name.replace(" ", "")
        value: Any = text
        try:
            if kind in {"int", "int|None", "Optional[int]"}:
                value = None if text.lower() == "none" and "None" in kind else int(text)
            elif kind in {"float", "float|None", "Optional[float]"}:
                value = (
                    None
                    if text.lower() == "none" and "None" in kind
                    else float(text.replace(",", "."))
                )
            elif kind == "bool":
                lowered = text.strip().lower()
                if lowered not in {"true", "false", "1", "0", "ja", "nee"}:
                    raise ValueError(text)
                value = lowered in {"true", "1", "ja"}
        except ValueError:
            raise ParameterError(
                f"Parameter {name!r} verwacht {declared[name].type_name}, maar {text!r} is dat "
                f"niet. Voorbeeld: {declared[name].default}.",
                name=name,
                valid=list(declared),
            ) from None
        result[name] = value
    return validate_parameters(notebook, result, declared)


def _untyped(declared: Mapping[str, NotebookParameter]) -> dict[str, NotebookParameter]:
    return {k: NotebookParameter(v.name, "None", v.default, v.help) for k, v in declared.items()}


# ----------------------------------------------------------------------------------------------
# Execution
# ----------------------------------------------------------------------------------------------


def run_notebook(
    notebook: Path,
    output_html: Path,
    parameters: Mapping[str, Any],
    *,
    title: str,
    timeout_per_cell: float = 600,
    failed_dir: Path = Path("reports/_failed"),
    cwd: Path | None = None,
    start_timeout: float = 60,
) -> Path:
    """Execute a parameterised notebook and write it as a self-contained HTML report.

    Parameters
    ----------
    notebook : Path
        The ``.ipynb`` with one cell tagged ``parameters``.
    output_html : Path
        Where the report goes; written atomically (a temporary file renamed into place), so a
        failed run never leaves a partial or stale-looking file behind.
    parameters : mapping
        Name -> value; names and types are checked before anything runs.
    title : str
        The ``<title>`` of the page.
    timeout_per_cell : float, default 600
        Seconds one cell may run.
    failed_dir : Path, default ``reports/_failed``
        Where the executed notebook of a failed run is saved, as ``<report name>.ipynb``.
    cwd : Path, optional
        Working folder of the kernel; default the notebook's folder (as in JupyterLab).
    start_timeout : float, default 60
        Seconds the kernel may take to start.

    Returns
    -------
    Path
        ``output_html``.

    Raises
    ------
    westerkwartier.errors.ParameterError
        Unknown parameter name or wrong type (nothing was executed).
    westerkwartier.errors.ReportFailed
        A cell failed or timed out, or the HTML broke a house rule (external URL, figure
        without alt text); the executed notebook is in ``failed_dir``.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    notebook = Path(notebook).resolve()
    output_html = Path(output_html)
    validate_parameters(notebook, parameters)
    workdir = Path(cwd) if cwd is not None else notebook.parent

    with tempfile.TemporaryDirectory(prefix="wk-rapport-") as tmp:
        executed_path = Path(tmp) / notebook.name
        try:
            papermill.execute_notebook(
                str(notebook),
                str(executed_path),
                parameters=dict(parameters),
                kernel_name="python3",
                language="python",
                execution_timeout=timeout_per_cell,
                start_timeout=start_timeout,
                cwd=str(workdir),
                progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=True,
            )
        except PapermillExecutionError as exc:
            saved = _save_failed(executed_path, notebook, output_html, failed_dir)
            index, cell = _failing_cell(saved)
            raise ReportFailed(
                f"Rapport {output_html.name} is niet gemaakt: {cell} faalde met "
                f"{exc.ename}: {exc.evalue}. Het uitgevoerde notebook staat in {saved}; "
                "open het in JupyterLab om de fout te zien.",
                notebook=notebook,
                failed_notebook=saved,
                cell_index=index,
            ) from None
        except Exception as exc:  # time-out, dead kernel, ...
            saved = _save_failed(executed_path, notebook, output_html, failed_dir)
            index, cell = _failing_cell(saved)
            reason = (
                f"duurde langer dan {timeout_per_cell:g} seconden"
                if "timeout" in type(exc).__name__.lower() or isinstance(exc, TimeoutError)
                else f"faalde ({type(exc).__name__}: {exc})"
            )
            raise ReportFailed(
                f"Rapport {output_html.name} is niet gemaakt: {cell} {reason}. "
                f"Het notebook (voor zover uitgevoerd) staat in {saved}.",
                notebook=notebook,
                failed_notebook=saved,
                cell_index=index,
            ) from exc

        executed = nbformat.read(executed_path, as_version=4)
        body = export_html(executed, title=title)
        problems = check_html(body)
        if problems:
            saved = _save_failed(executed_path, notebook, output_html, failed_dir)
            raise ReportFailed(
                f"Rapport {output_html.name} is niet gemaakt: de HTML breekt de huisregels: "
                + "; ".join(problems)
                + f". Het uitgevoerde notebook staat in {saved}.",
                notebook=notebook,
                failed_notebook=saved,
            )
    write_atomic(output_html, body)
    return output_html


def _save_failed(executed: Path, notebook: Path, output_html: Path, failed_dir: Path) -> Path:
    failed_dir = Path(failed_dir)
    failed_dir.mkdir(parents=True, exist_ok=True)
    target = failed_dir / f"{output_html.stem}.ipynb"
    if executed.is_file():
        tmp = target.with_name(f".{target.name}.tmp")
        shutil.copyfile(executed, tmp)
        os.replace(tmp, target)
    else:  # the kernel never started: keep the input so the failure can be reproduced
        shutil.copyfile(notebook, target)
    return target


_PAPERMILL_TAGS = frozenset({"injected-parameters", "papermill-error-cell-tag"})


def _failing_cell(saved: Path) -> tuple[int | None, str]:
    """Find the cell that failed in a saved notebook and name it for a person.

    papermill marks a cell that raised as ``failed``; a cell that timed out is marked
    ``completed`` but is the last one that started. Cells are numbered as the author sees
    them, without papermill's banner and injected cell.

    Returns
    -------
    index, description : int or None, str
        Index in the saved notebook, and e.g. ``cel 5 (`raise ValueError(...)`)``.
    """
    try:
        nb = nbformat.read(saved, as_version=4)
    except Exception:  # pragma: no cover - unreadable partial notebook
        return None, "een cel"
    own = [
        (index, cell)
        for index, cell in enumerate(nb.cells)
        if not _PAPERMILL_TAGS & set(cell.get("metadata", {}).get("tags", []))
    ]
    found: tuple[int, int, Any] | None = None
    for number, (index, cell) in enumerate(own, start=1):
        meta = cell.get("metadata", {}).get("papermill", {})
        if meta.get("status") == "failed" or meta.get("exception"):
            found = (number, index, cell)
            break
        if meta.get("start_time"):
            found = (number, index, cell)  # keep the last one that started
    if found is None:
        return None, "een cel"
    number, index, cell = found
    first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
    if len(first) > 60:
        first = first[:57] + "..."
    return index, (f"cel {number} (`{first}`)" if first else f"cel {number}")


# ----------------------------------------------------------------------------------------------
# HTML
# ----------------------------------------------------------------------------------------------


def report_css() -> str:
    """Return the style sheet of reports and index (inlined, never linked)."""
    return CSS_FILE.read_text(encoding="utf-8")


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
            "westerkwartier.style.show_figure(fig, alt) in plaats van plt.show()"
        )
    parser = _ImgCollector()
    parser.feed(text)
    if parser.scripts:
        problems.append(f"{parser.scripts} script(s); rapporten bevatten geen JavaScript")
    if '<html lang="nl">' not in text:
        problems.append('geen <html lang="nl">')
    return problems


def write_atomic(path: Path, text: str) -> Path:
    """Write text as UTF-8 to a temporary file beside ``path`` and rename it into place.

    Readers see either the old file or the complete new one, never a partial file.
    """
    from .errors import OutputNotWritable

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise OutputNotWritable(path.parent, err) from err
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


# ----------------------------------------------------------------------------------------------
# Index page
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexEntry:
    """One line of the index page.

    Attributes
    ----------
    municipality : str
        Name of the municipality (with its code if wanted), e.g. ``"Westerkwartier (GM1969)"``.
    report : str
        Report name as readers know it, e.g. ``"Talent"``.
    reference_year : int or str
        Year the figures are about.
    data_date : datetime.date or str
        Date the data were retrieved or published (the report's ``peildatum``).
    generated : datetime.date or str
        Date the report was made; passed in, never read from the clock here.
    href : str
        Relative link from the index to the report, e.g. ``"GM1969/talent.html"``.
    """

    municipality: str
    report: str
    reference_year: int | str
    data_date: dt.date | str
    generated: dt.date | str
    href: str


def _fmt_date(value: dt.date | str) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        from babel.dates import format_date

        return format_date(value, format="long", locale="nl_NL")
    return str(value)


def _as_entry(entry: IndexEntry | Mapping[str, Any]) -> IndexEntry:
    if isinstance(entry, IndexEntry):
        return entry
    try:
        return IndexEntry(**dict(entry))
    except TypeError as exc:
        fields = ", ".join(IndexEntry.__dataclass_fields__)
        raise ParameterError(
            f"Onvolledige regel voor de index ({exc}); nodig: {fields}.",
            name="entries",
            valid=list(IndexEntry.__dataclass_fields__),
        ) from None


def render_index(
    entries: Iterable[IndexEntry | Mapping[str, Any]], *, title: str = "Rapporten"
) -> str:
    """Return the HTML of the index page (see :func:`write_index`)."""
    rows = []
    for raw in entries:
        entry = _as_entry(raw)
        href = entry.href.strip()
        if find_external_urls(f'href="{href}"') or re.match(r"^[a-z][a-z0-9+.-]*:", href, re.I):
            raise ParameterError(
                f"Link {href!r} in de index is geen relatief pad; de index moet offline werken.",
                name="href",
                valid=["relatief pad, bijvoorbeeld GM1969/talent.html"],
            )
        esc = html.escape
        rows.append(
            "<tr>"
            f"<td>{esc(entry.municipality)}</td>"
            f'<td><a href="{esc(href, quote=True)}">{esc(entry.report)}</a></td>'
            f"<td>{esc(str(entry.reference_year))}</td>"
            f"<td>{esc(_fmt_date(entry.data_date))}</td>"
            f"<td>{esc(_fmt_date(entry.generated))}</td>"
            "</tr>"
        )
    body_rows = "\n".join(rows) if rows else '<tr><td colspan="5">Nog geen rapporten.</td></tr>'
    return (
        "<!DOCTYPE html>\n"
        '<html lang="nl">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        f'<style>\n{report_css()}\n</style>\n</head>\n<body>\n<main class="rapport">\n'
        f"<h1>{html.escape(title)}</h1>\n"
        '<div class="tabel-kader">\n<table>\n'
        "<caption>Alle rapporten, met het jaar waarover de cijfers gaan, de datum van de "
        "gegevens en de datum waarop het rapport is gemaakt.</caption>\n"
        "<thead><tr>"
        '<th scope="col">Gemeente</th><th scope="col">Rapport</th>'
        '<th scope="col">Peiljaar</th><th scope="col">Gegevens van</th>'
        '<th scope="col">Gemaakt op</th>'
        "</tr></thead>\n<tbody>\n"
        f"{body_rows}\n</tbody>\n</table>\n</div>\n"
        '<p class="bron">Bron van de cijfers: CBS (Centraal Bureau voor de Statistiek), '
        "licentie CC BY 4.0.</p>\n"
        "</main>\n</body>\n</html>\n"
    )


def write_index(
    entries: Iterable[IndexEntry | Mapping[str, Any]],
    path: Path = Path("reports/index.html"),
    *,
    title: str = "Rapporten",
) -> Path:
    """Write the index page listing every report, atomically.

    Parameters
    ----------
    entries : iterable of IndexEntry or mapping
        One per report, in the order to show; mappings need the fields of
        :class:`IndexEntry`. All text is escaped.
    path : Path, default ``reports/index.html``
        Where the page goes.
    title : str, default "Rapporten"
        Page title and heading.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    westerkwartier.errors.ParameterError
        For an entry with missing fields or a link that is not a relative path.
    """
    return write_atomic(Path(path), render_index(entries, title=title))
