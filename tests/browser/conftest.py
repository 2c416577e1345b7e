"""Browser tests: every generated report opened in Debian's Chromium through Playwright.

What is rendered
    The mini notebook of the runner tests, this folder's ``fixtures/proefrapport.ipynb`` (figures,
    three heading levels, a wide pandas table and a markdown table), every ``notebooks/*.ipynb`` of
    the project (with ``gemeente="GM1969"``, offline) and the index page linking them all. Each goes
    through :func:`westerkwartier.pipeline.notebook.run_notebook` /
    :func:`~westerkwartier.report.write_index`
    exactly as in production. A notebook that exists is always tested: if it fails to render, its
    tests fail with the runner's message.

The browser
    ``/usr/bin/chromium`` (Debian's package; ``WESTERKWARTIER_CHROMIUM`` overrides the path), never
    a browser build downloaded by Playwright. Pages are opened from ``file://`` and every request
    that is not ``file:``/``data:`` is aborted and recorded as a failure. axe-core comes from the
    npm registry (``tests/browser/package.json``; ``WESTERKWARTIER_AXE`` overrides the path).
    ``bash scripts/install-browser.sh`` installs both when missing.

    A missing Chromium, Playwright or axe-core makes the tests FAIL with a message saying what to
    install. ``WESTERKWARTIER_SKIP_BROWSER=1`` skips them on a developer's machine; under CI
    (``CI`` set) that variable is ignored, so CI always runs them.

Artifacts (git-ignored ``test-artifacts/``)
    ``screenshots/<report>-390.png`` and ``<report>-1280.png``, ``pdf/<report>.pdf``,
    ``axe/<report>.json``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pytest

from westerkwartier.pipeline import index_page, pdf
from westerkwartier.pipeline import notebook as runner

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
NOTEBOOKS = ROOT / "notebooks"
MINI = ROOT / "tests" / "fixtures" / "notebooks" / "mini.ipynb"
PROEF = HERE / "fixtures" / "proefrapport.ipynb"

CHROMIUM = Path(os.environ.get("WESTERKWARTIER_CHROMIUM", "/usr/bin/chromium"))
AXE_JS = Path(
    os.environ.get("WESTERKWARTIER_AXE", HERE / "node_modules" / "axe-core" / "axe.min.js")
)
#: The flags of ``report --pdf`` (no sandbox as root, no GPU, no background traffic to a
#: network that is closed anyway): the tests see the pages as the PDF printer does. Playwright
#: adds --headless and a new empty --user-data-dir of its own.
CHROMIUM_ARGS = list(pdf.CHROMIUM_ARGS)
GEMEENTE = "GM1969"
GEMEENTE_NAAM = "Westerkwartier"
INSTALL_HINT = (
    "run `bash scripts/install-browser.sh` (or set WESTERKWARTIER_SKIP_BROWSER=1 locally)"
)

#: URL schemes a self-contained report may load; anything else is an external request.
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:")


# ----------------------------------------------------------------------------------------------
# Which reports
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportSpec:
    """One page to test: a notebook rendered with parameters, or the index."""

    name: str
    title: str
    #: Expected text of the one ``<h1>``; None when the notebook writes it at run time.
    #: ``{jaar}`` in it and in ``shown_title`` stands for the reference year the page states.
    h1: str | None
    notebook: Path | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    #: Pages the PDF must at least have.
    min_pages: int = 2
    #: The page must hold at least one table wider than a phone (proves the scroll box works).
    wide_table: bool = False
    #: The page's ``<title>`` when it is not ``title`` (a report adds its reference year).
    shown_title: str | None = None

    def expected_title(self, html: str) -> str:
        """The ``<title>`` the page must have, with ``{jaar}`` read from the page."""
        stated = re.search(r'data-peiljaar="(\d{4})"', html)
        return (self.shown_title or self.title).replace(
            "{jaar}", stated.group(1) if stated else "{jaar}"
        )

    @property
    def relpath(self) -> str:
        return "index.html" if self.notebook is None else f"{GEMEENTE}/{self.name}.html"


def _static_h1(nb: nbformat.NotebookNode) -> str | None:
    """Text of the first ``# `` heading in a markdown cell, if the notebook has one."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            match = re.match(r"^#\s+(.+?)\s*#*\s*$", line)
            if match:
                return match.group(1).strip()
    return None


def _manifest_titles() -> dict[str, str]:
    """Notebook file name -> report ``titel`` from the report manifest, when there is one.

    Production (``westerkwartier.pipeline.render.render_reports``) titles a report
    ``"<titel> in <gemeente>, <jaar> — regionale monitor"`` and its h1 reads
    ``"<titel> in <gemeente>, <jaar>"`` (``{jaar}``: the report's reference year, read from
    the page).
    """
    try:
        from westerkwartier.reporting.report_catalogue import load_report_catalogue

        return {str(s.notebook): str(s.titel) for s in load_report_catalogue().values()}
    except Exception:  # no manifest (yet): fall back on what the notebook itself says
        return {}


def project_notebook_spec(path: Path, manifest: dict[str, str] | None = None) -> ReportSpec:
    """Spec of a report notebook in ``notebooks/``: default parameters plus the gemeente.

    A notebook in the report manifest gets the production title and h1. Otherwise the title is
    the notebook's ``metadata.title`` when set, else its first markdown ``# `` heading (which is
    then also the expected ``<h1>``), else the file name.
    """
    titel = (manifest or {}).get(path.name)
    if titel:
        return ReportSpec(
            name=path.stem,
            title=f"{titel} in {GEMEENTE_NAAM} — regionale monitor",
            h1=f"{titel} in {GEMEENTE_NAAM}, {{jaar}}",
            shown_title=f"{titel} in {GEMEENTE_NAAM}, {{jaar}} — regionale monitor",
            notebook=path,
            parameters={"gemeente": GEMEENTE},
        )
    nb = nbformat.read(path, as_version=4)
    h1 = _static_h1(nb)
    title = str(nb.metadata.get("title") or h1 or path.stem)
    return ReportSpec(
        name=path.stem,
        title=title,
        h1=h1,
        notebook=path,
        parameters={"gemeente": GEMEENTE},
    )


def report_specs() -> list[ReportSpec]:
    """Every page the browser tests open: fixtures, project notebooks, index."""
    specs = [
        ReportSpec(
            name="mini",
            title="Mini-rapport voor Westerkwartier",
            h1="Mini-rapport",
            notebook=MINI,
            parameters={"gemeente": GEMEENTE},
        ),
        ReportSpec(
            name="proefrapport",
            title="Proefrapport voor Westerkwartier",
            h1="Proefrapport voor de browsertests",
            notebook=PROEF,
            parameters={"gemeente": GEMEENTE},
            min_pages=3,
            wide_table=True,
        ),
    ]
    taken = {s.name for s in specs}
    manifest = _manifest_titles()
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        spec = project_notebook_spec(path, manifest)
        if spec.name in taken:  # never drop a notebook silently: give it another name
            spec = ReportSpec(**{**spec.__dict__, "name": f"notebooks-{spec.name}"})
        specs.append(spec)
    specs.append(ReportSpec(name="index", title="Rapporten", h1="Rapporten", min_pages=1))
    return specs


SPECS: list[ReportSpec] = report_specs()
SPECS_BY_NAME = {s.name: s for s in SPECS}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: opens reports in headless Chromium (tests/browser; see its conftest)"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``report`` runs a test once per page; ``notebook_report`` once per rendered notebook."""
    if "report" in metafunc.fixturenames:
        names = [s.name for s in SPECS]
        metafunc.parametrize("report", names, indirect=True, ids=names)
    if "notebook_report" in metafunc.fixturenames:
        names = [s.name for s in SPECS if s.notebook is not None]
        metafunc.parametrize("notebook_report", names, indirect=True, ids=names)


def _skip_requested() -> bool:
    return os.environ.get("WESTERKWARTIER_SKIP_BROWSER") == "1" and not os.environ.get("CI")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mine = [item for item in items if HERE in Path(str(item.path)).parents]
    for item in mine:
        item.add_marker(pytest.mark.browser)
    if _skip_requested():
        skip = pytest.mark.skip(reason="WESTERKWARTIER_SKIP_BROWSER=1 (never honoured in CI)")
        for item in mine:
            item.add_marker(skip)


# ----------------------------------------------------------------------------------------------
# Rendering
# ----------------------------------------------------------------------------------------------


@dataclass
class Rendered:
    """A page on disk, or the reason it could not be made."""

    spec: ReportSpec
    path: Path
    error: str | None = None

    @property
    def url(self) -> str:
        return self.path.resolve().as_uri()


def _render_notebook(spec: ReportSpec, out_dir: Path) -> Rendered:
    assert spec.notebook is not None
    target = out_dir / spec.relpath
    try:
        runner.run_notebook(
            spec.notebook,
            target,
            spec.parameters,
            title=spec.title,
            failed_dir=out_dir / "_failed",
            timeout_per_cell=300,
        )
    except Exception as exc:  # ReportFailed, ParameterError, a dead kernel: all fail the tests
        return Rendered(spec, target, f"{type(exc).__name__}: {exc}")
    return Rendered(spec, target)


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Rendered]:
    """Render every page once, notebooks two at a time, offline, before any browser starts."""
    _require_browser_tools()  # fail at once, not after rendering, when the browser is missing
    out_dir = tmp_path_factory.mktemp("browser-reports")
    notebooks = [s for s in SPECS if s.notebook is not None]
    # The kernels inherit these: never reach CBS, keep their cache out of the work tree.
    kernel_env = {
        "WESTERKWARTIER_OFFLINE": "1",
        "WESTERKWARTIER_CACHE_DIR": str(tmp_path_factory.mktemp("kernel-cache")),
        "WESTERKWARTIER_PROGRESS": "0",
    }
    saved = {key: os.environ.get(key) for key in kernel_env}
    os.environ.update(kernel_env)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            done = list(pool.map(lambda s: _render_notebook(s, out_dir), notebooks))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    result = {r.spec.name: r for r in done}
    index_spec = SPECS_BY_NAME["index"]
    entries = [
        index_page.IndexEntry(
            municipality=f"Westerkwartier ({GEMEENTE})",
            report=r.spec.title,
            reference_year=2023,
            data_date=dt.date(2025, 3, 1),
            generated=dt.date(2025, 3, 2),
            href=r.spec.relpath,
        )
        for r in done
        if r.error is None
    ]
    index_path = index_page.write_index(entries, out_dir / index_spec.relpath)
    result["index"] = Rendered(index_spec, index_path)
    return result


def _get_rendered(request: pytest.FixtureRequest, name: str) -> Rendered:
    page = request.getfixturevalue("rendered")[name]
    if page.error:
        pytest.fail(f"{page.spec.notebook} could not be rendered: {page.error}", pytrace=False)
    return page


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Rendered:
    """One rendered page (parametrised over every report and the index)."""
    return _get_rendered(request, request.param)


@pytest.fixture
def notebook_report(request: pytest.FixtureRequest) -> Rendered:
    """One rendered notebook report (the index excluded)."""
    return _get_rendered(request, request.param)


# ----------------------------------------------------------------------------------------------
# Browser
# ----------------------------------------------------------------------------------------------


def _require_browser_tools() -> None:
    problems = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append(
            "the Python package playwright is not installed (pip install playwright; it is a "
            "dependency in pyproject.toml)"
        )
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        problems.append(f"Chromium not found at {CHROMIUM} (Debian package `chromium`)")
    if not AXE_JS.is_file():
        problems.append(f"axe-core not found at {AXE_JS} (npm package, tests/browser/package.json)")
    if problems:
        pytest.fail(
            "Browser tests cannot run: " + "; ".join(problems) + f". To fix: {INSTALL_HINT}.",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def browser(rendered) -> Iterator[Any]:
    """Headless Debian Chromium, shared by all tests (started after all pages are rendered)."""
    _require_browser_tools()
    from playwright.sync_api import sync_playwright

    manager = sync_playwright().start()
    try:
        chromium = manager.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
    except Exception as exc:
        manager.stop()
        pytest.fail(f"Chromium at {CHROMIUM} did not start: {exc}", pytrace=False)
    yield chromium
    chromium.close()
    manager.stop()


@dataclass
class PageLog:
    """What happened while a page was open: errors and every request that left the file system."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return (
            [f"console error: {m}" for m in self.console_errors]
            + [f"script error: {m}" for m in self.page_errors]
            + [f"request failed: {m}" for m in self.failed_requests]
            + [f"external request (blocked): {m}" for m in self.external_requests]
        )


class Browse:
    """Open pages offline in Chromium, one reused tab per window size, and log what happens.

    Every request that is not ``file:``/``data:`` is aborted (the page never reaches the network)
    and recorded; so are console errors, script errors and failed requests. Opening a page is a
    fresh navigation, so nothing a test did to the previous page (an injected axe-core, a scroll
    position) carries over.
    """

    def __init__(self, browser: Any) -> None:
        self._browser = browser
        self._tabs: dict[tuple[int, int, bool], Any] = {}
        self.log = PageLog()

    def _tab(self, width: int, height: int, mobile: bool) -> Any:
        key = (width, height, mobile)
        if key in self._tabs:
            return self._tabs[key]
        context = self._browser.new_context(
            viewport={"width": width, "height": height},
            device_scale_factor=1,  # CSS pixels: full-page screenshots stay small and quick
            is_mobile=mobile,
            has_touch=mobile,
            locale="nl-NL",
            service_workers="block",
        )

        def _route(route: Any) -> None:
            request_url = route.request.url
            if request_url.startswith(LOCAL_SCHEMES):
                route.continue_()
            else:
                self.log.external_requests.append(request_url)
                route.abort("blockedbyclient")

        context.route("**/*", _route)
        page = context.new_page()
        page.on(
            "console",
            lambda msg: self.log.console_errors.append(msg.text) if msg.type == "error" else None,
        )
        page.on("pageerror", lambda exc: self.log.page_errors.append(str(exc)))
        page.on(
            "requestfailed",
            lambda req: self.log.failed_requests.append(f"{req.url[:120]} ({req.failure})"),
        )
        self._tabs[key] = page
        return page

    def open(
        self,
        url: str,
        *,
        width: int = 1280,
        height: int = 900,
        mobile: bool = False,
        media: str | None = None,
    ) -> Any:
        """Open ``url`` in a tab of the given window size and wait until it has loaded.

        ``media="print"`` lays the page out with the print style sheet.
        """
        page = self._tab(width, height, mobile)
        page.emulate_media(media=media)  # None: no emulation (page.pdf prints with print CSS)
        page.goto(url, wait_until="load")
        return page

    def close(self) -> None:
        for page in self._tabs.values():
            page.context.close()


@pytest.fixture(scope="session")
def _browse_session(browser) -> Iterator[Browse]:
    session = Browse(browser)
    yield session
    session.close()


@pytest.fixture
def browse(_browse_session: Browse) -> Iterator[Browse]:
    """Open pages offline; after the test, fail on console errors or non-local requests."""
    _browse_session.log = PageLog()
    yield _browse_session
    problems = _browse_session.log.problems()
    if problems:
        pytest.fail("The page was not clean:\n  " + "\n  ".join(problems), pytrace=False)


# ----------------------------------------------------------------------------------------------
# Helpers for the tests
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """The git-ignored ``test-artifacts/``; files of pages that no longer exist are removed."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    names = {s.name for s in SPECS}
    for sub, pattern in (("screenshots", "*.png"), ("axe", "*.json"), ("pdf", "*.pdf")):
        for old in (ARTIFACTS / sub).glob(pattern):
            stem = old.stem
            if stem not in names and stem.rsplit("-", 1)[0] not in names:
                old.unlink()
    return ARTIFACTS


@pytest.fixture(scope="session")
def axe_script() -> str:
    """The text of axe.min.js, injected into pages by the accessibility tests."""
    _require_browser_tools()
    return AXE_JS.read_text(encoding="utf-8")
