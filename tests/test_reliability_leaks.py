"""Published HTML leaks nothing, escapes what it shows, and loads nothing from the network.

A probe notebook (written here, in the shape of the real ones) shows a hostile parameter and
hostile data through the usual routes (print, a table, a chart title, Markdown) and is rendered
with the production runner. The table in docs/reliability.md is checked last (see
``reliability_plugin``).
"""

from __future__ import annotations

import getpass
import os
import re
import socket
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from reliability_plugin import (
    HOSTILE_NOTICE,
    PAIR_REPORT,
    RELIABILITY_DOC,
    current_section,
    render,
    suite_complete,
)

from westerkwartier import settings
from westerkwartier.pipeline import index_page, notebook
from westerkwartier.reporting import html

HOSTILE = '<script>alert("wk")</script>'

PROBE_CELLS = [
    ("code", 'gemeente: str = "GM1969"  # CBS-code of naam\nopmerking: str = ""  # vrije tekst'),
    ("markdown", "# Probe"),
    ("code", "print(f'Gemeente: {gemeente}; opmerking: {opmerking}')"),
    (
        "code",
        "import pandas as pd\npd.DataFrame({'naam': [gemeente, opmerking], 'waarde': [1.5, 2.5]})",
    ),
    (
        "code",
        "from IPython.display import Markdown\nMarkdown(f'**{gemeente}**')",
    ),
    (
        "code",
        "import pandas as pd\nfrom westerkwartier import style\n"
        "reeks = pd.DataFrame({gemeente: [1.0, 2.0]}, index=[2022, 2023])\n"
        "fig = style.trend_chart(reeks, focus=gemeente, title=f'Titel {gemeente}', unit='%',"
        " tables='86088NED')\nstyle.show_figure(fig)",
    ),
]


def _probe(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    for i, (kind, source) in enumerate(PROBE_CELLS):
        cell = (nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell)(
            source
        )
        cell["id"] = f"probe-{i}"
        if i == 0:
            cell.metadata["tags"] = ["parameters"]
        nb.cells.append(cell)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path = folder / "probe.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lek")
    out = tmp / "reports"
    page = notebook.run_notebook(
        _probe(tmp),
        out / "GM1969" / "probe.html",
        {"gemeente": HOSTILE, "opmerking": f"{HOSTILE} & <b>vet</b>"},
        title=f"Probe {HOSTILE}",
        failed_dir=tmp / "_failed",
        timeout_per_cell=120,
    )
    index = index_page.write_index(
        [
            {
                "municipality": HOSTILE,
                "report": f"Probe {HOSTILE}",
                "reference_year": HOSTILE,
                "data_date": "2025-01-01",
                "generated": "2025-01-02",
                "href": "GM1969/probe.html",
            }
        ],
        out / "index.html",
        title=HOSTILE,
    )
    return {"tmp": tmp, "report": page.read_text("utf-8"), "index": index.read_text("utf-8")}


def _secrets(tmp: Path) -> dict[str, str]:
    values = {
        "test folder": str(tmp),
        "project folder": str(settings.project_dir),
        "virtual env": sys.prefix,
        "python": sys.executable,
        "home": os.path.expanduser("~"),
        "temp folder": tempfile.gettempdir() + "/",
        "cwd": os.getcwd(),
    }
    for name in ("HOME", "PWD", "VIRTUAL_ENV", "TMPDIR", "JUPYTER_RUNTIME_DIR"):
        if os.environ.get(name) and len(os.environ[name]) > 3:
            values[f"${name}"] = os.environ[name]
    return values


@pytest.mark.parametrize("which", ["report", "index"])
def test_published_html_leaks_nothing(pages, which, reliability):
    page = pages[which]
    found = [name for name, value in _secrets(pages["tmp"]).items() if value in page]
    assert not found, f"{which} page shows {found}"
    user = getpass.getuser()
    assert not re.search(rf"(?<![:\w-]){re.escape(user)}(?![\w-])", page), "user name"
    host = socket.gethostname()
    if len(host) >= 4:
        assert host not in page, "host name"
    assert "Traceback" not in page and 'File "' not in page
    reliability(
        "leaks",
        f"{'mini-style report' if which == 'report' else 'index page'}: absolute paths, user "
        "name, host name, environment values, tracebacks",
        "`notebook.run_notebook`" if which == "report" else "`index_page.write_index`",
        "none found (project, venv, home, temp and working folders; $HOME, $PWD, "
        "$VIRTUAL_ENV, $TMPDIR when set; user and host name)",
        None,
    )


@pytest.mark.parametrize("which", ["report", "index"])
def test_hostile_text_is_escaped(pages, which, reliability):
    page = pages[which]
    assert HOSTILE not in page and "<script" not in page.lower()
    assert "&lt;script&gt;" in page or "&lt;script" in page
    assert html.check_html(page) == []
    routes = (
        "parameter in print, table, Markdown, chart title and page title"
        if which == "report"
        else "municipality, report name, year and title"
    )
    reliability(
        "leaks",
        f"`{HOSTILE}` as {routes}",
        "`notebook.run_notebook`" if which == "report" else "`index_page.write_index`",
        "escaped (&lt;script&gt;); no <script> element; check_html passes",
        None,
    )


_FETCHING = re.compile(
    r"""(?:\b(?:src|href|action|poster|data|srcset)\s*=\s*["']?([^"'\s>]+))"""
    r"""|(?:url\(\s*["']?([^"')\s]+))|(?:@import\s+["']([^"']+))""",
    re.I,
)


@pytest.mark.parametrize("which", ["report", "index"])
def test_no_network_request_when_opened(pages, which, reliability):
    page = pages[which]
    targets = [a or b or c for a, b, c in _FETCHING.findall(page)]
    remote = [
        t
        for t in targets
        if not (
            t.startswith(("data:", "#")) or (":" not in t.split("/")[0] and not t.startswith("//"))
        )
    ]
    assert not remote, remote
    assert html.find_external_urls(page) == []
    reliability(
        "leaks",
        f"{which} page: src / href / url() / @import targets",
        "static scan",
        f"{len(targets)} found, all inline (data:), anchors or relative; no request when opened",
        None,
    )


#: Absolute path prefixes that must not occur in a published page (besides the values above).
_ROOTS = ("/tmp/", "/root", "/home/", "/work/", "file://")


def _real_pages(pair: dict) -> dict[str, str]:
    out = pair["out"]
    found = {
        f"{path.parent.name}/{path.name}": path.read_text("utf-8")
        for path in sorted(out.glob(f"*/{PAIR_REPORT}.html"))
    }
    found["index.html"] = (out / "index.html").read_text("utf-8")
    return found


def test_real_reports_leak_nothing(real_report_pair, reliability):
    assert real_report_pair["codes"] == [0, 0], real_report_pair["stderr"]
    pages = _real_pages(real_report_pair)
    assert len(pages) == 3
    secrets = _secrets(real_report_pair["tmp"])
    user = getpass.getuser()
    host = socket.gethostname()
    for name, page in pages.items():
        found = [key for key, value in secrets.items() if value in page]
        found += [root for root in _ROOTS if root in page]
        assert not found, f"{name} shows {found}"
        assert not re.search(rf"(?<![:\w-]){re.escape(user)}(?![\w-])", page), (name, "user")
        if len(host) >= 4:
            assert host not in page, (name, "host name")
        for marker in ("Traceback", 'File "', "ename", "evalue", 'class="output_error"'):
            assert marker not in page, (name, marker)
        assert html.find_external_urls(page) == [], name
    reliability(
        "leaks",
        f"real reports ({PAIR_REPORT}, 2 municipalities) and their index: absolute paths "
        "(repository, /tmp, /root, /home), user name, host name, environment values "
        "(HOME, VIRTUAL_ENV, …), tracebacks, external URLs",
        "`westerkwartier report` (the concurrent pair)",
        f"none found in the {len(pages)} pages",
        None,
    )


def test_real_report_escapes_a_hostile_parameter(real_report_pair, reliability):
    pages = _real_pages(real_report_pair)
    reports_only = {k: v for k, v in pages.items() if k != "index.html"}
    assert len(reports_only) == 2
    escaped = HOSTILE_NOTICE.replace("<", "&lt;").replace(">", "&gt;")
    for name, page in pages.items():
        assert HOSTILE_NOTICE not in page and "<script" not in page.lower(), name
    for name, page in reports_only.items():
        assert escaped in page, name  # shown, as text, in the notice at the top
        assert html.check_html(page) == []
    reliability(
        "leaks",
        f"`{HOSTILE_NOTICE}` as `--gegevensmelding` of a real report",
        "`westerkwartier report` (the concurrent pair)",
        "shown escaped (&lt;script&gt;) in the notice of both reports; no <script> element "
        "in the reports or the index",
        None,
    )


def test_reliability_table_is_current(reliability_rows):
    if not suite_complete():
        pytest.skip("the table check needs the whole reliability suite in one run")
    rows = [r for r in reliability_rows if "test_reliability_table_is_current" not in r.nodeid]
    expected = render(rows)
    committed = current_section(RELIABILITY_DOC.read_text(encoding="utf-8"))
    assert committed is not None, "docs/reliability.md lacks the reliability markers"
    assert committed == expected, (
        "the table in docs/reliability.md is stale: run `make reliability` "
        "(or python scripts/reliability_table.py)"
    )
