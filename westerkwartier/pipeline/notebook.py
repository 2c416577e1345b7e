"""Run parameterised notebooks and turn them into self-contained Dutch HTML reports.

The runner validates parameters against the notebook's ``parameters`` cell, executes it with
papermill (kernel ``python3``, a time-out per cell), and exports the result with nbconvert into
one HTML file without code, prompts, parameters, scripts or external URLs. The same notebook
with the same parameters and data gives the same bytes. A notebook that fails is saved aside
(``reports/_failed``) and never published.

Examples
--------
Running a notebook starts a kernel, so this is not run as a doctest::

    from pathlib import Path

    run_notebook(
        Path("notebooks/talent.ipynb"),
        Path("reports/GM1969/talent.html"),
        {"gemeente": "GM1969", "peildatum": "2025-03-01"},
        title="Talent in Westerkwartier",
    )
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from westerkwartier.errors import ParameterError, ReportFailed
from westerkwartier.pipeline import kernels
from westerkwartier.reporting.html import check_html, export_html

log = logging.getLogger(__name__)


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
    westerkwartier.errors.ParameterError
        When the notebook does not exist, cannot be read or is not a notebook.
    """
    import warnings

    import papermill

    notebook = Path(notebook)
    if not notebook.is_file():
        raise ParameterError(
            f"Notebook {notebook} bestaat niet. Controleer het pad of de naam van het rapport."
        )
    try:
        with warnings.catch_warnings():  # papermill warns about a name without .ipynb
            warnings.simplefilter("ignore", UserWarning)
            inspected = papermill.inspect_notebook(str(notebook))
    except OSError as err:
        raise ParameterError(
            f"Notebook {notebook.name} is niet te lezen ({err.strerror or err}). Controleer "
            "het pad en de rechten."
        ) from None
    except Exception as err:  # noqa: BLE001 - JSON, encoding or nbformat errors: not a notebook
        raise ParameterError(
            f"{notebook.name} is geen Jupyter-notebook (.ipynb) dat te lezen is "
            f"({type(err).__name__}). Geef het pad van een notebook, opgeslagen door "
            "JupyterLab of Jupyter Notebook."
        ) from None
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
    session: Any = None,
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
    session : westerkwartier.pipeline.kernels.KernelSession, optional
        Run in this session's kernel (cleaned first) instead of a new kernel; after any
        failure the session's kernel is shut down.

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
    _register_engine()
    workdir = Path(cwd) if cwd is not None else notebook.parent

    with tempfile.TemporaryDirectory(prefix="wk-rapport-") as tmp, contextlib.ExitStack() as stack:
        executed_path = Path(tmp) / notebook.name
        kernel: dict[str, Any] = {}  # the reused kernel, or how papermill starts a new one
        try:
            if session is not None:
                kernel = {"km": session.prepare(workdir, start_timeout), "kc": session.client}
            else:
                kernel = kernels.kernel_options(stack.enter_context(kernels.socket_folder()))
            executed = papermill.execute_notebook(
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
                request_save_on_cell_execute=True,  # our engine saves only a failed run
                engine_name=_ENGINE,
                **kernel,
            )
        except PapermillExecutionError as exc:
            if session is not None:
                session.discard()
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
            if session is not None:
                session.discard()
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

        body = export_html(executed, title=title)
        problems = check_html(body)
        if problems:
            if session is not None:
                session.discard()
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


_ENGINE = "westerkwartier-kernel"


def _register_engine() -> None:
    """Register the papermill engine of every report run.

    It differs from papermill's own engine in two ways. Given a reused kernel (``km``) and
    the session's client connected to it (``kc``), it runs the notebook through that client
    and leaves it connected; a client it had to make itself is closed after the run. And it
    saves the executed notebook only when the run fails (papermill saves it before and after
    every cell); papermill writes a successful run once, at the end.
    """
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    class ReusedKernelEngine(NBClientEngine):
        @classmethod
        def execute_notebook(
            cls,
            nb: Any,
            kernel_name: str,
            output_path: str | None = None,
            progress_bar: bool = True,
            log_output: bool = False,
            autosave_cell_every: int = 30,
            **kwargs: Any,
        ) -> Any:
            # papermill saves the whole notebook before and after every cell (about 70
            # times per report, each a JSON dump of a growing notebook); here it is saved
            # once, and only when the run fails, so the failed notebook still shows how far
            # it got. A run that succeeds is written by papermill itself at the end.
            try:
                return super().execute_notebook(
                    nb,
                    kernel_name,
                    output_path=None,
                    progress_bar=progress_bar,
                    log_output=log_output,
                    autosave_cell_every=autosave_cell_every,
                    **kwargs,
                )
            except BaseException:
                if output_path:
                    from papermill.iorw import write_ipynb

                    write_ipynb(nb, output_path)
                raise

        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man: Any,
            kernel_name: str,
            log_output: bool = False,
            stdout_file: Any = None,
            stderr_file: Any = None,
            start_timeout: float = 60,
            execution_timeout: float | None = None,
            **kwargs: Any,
        ) -> Any:
            kwargs.pop("input_path", None)
            kwargs.pop("timeout", None)
            kwargs.pop("startup_timeout", None)
            reused_client = kwargs.pop("kc", None)
            client = PapermillNotebookClient(
                nb_man,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=logging.getLogger("papermill"),
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
                **kwargs,
            )
            # nbclient makes a client only when it has none: the session's stays connected
            client.kc = reused_client
            try:
                return client.execute()
            finally:
                if getattr(client, "kc", None) is not None and client.kc is not reused_client:
                    client.kc.stop_channels()
                client.kc = None

    if _ENGINE not in papermill_engines._engines:  # noqa: SLF001 - no public lookup
        papermill_engines.register(_ENGINE, ReusedKernelEngine)


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


def write_atomic(path: Path, text: str) -> Path:
    """Write text as UTF-8 to a temporary file beside ``path`` and rename it into place.

    Readers see either the old file or the complete new one, never a partial file.
    """
    from westerkwartier.errors import OutputNotWritable

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
    except OSError as err:  # full disk, a folder in the way, no permission
        Path(tmp_name).unlink(missing_ok=True)
        raise OutputNotWritable(path, err) from err
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path
