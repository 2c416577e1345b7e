"""HTML from templates: autoescaping of names from data, strict templates, no markup in code."""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import re
from pathlib import Path

import jinja2
import pandas as pd
import pytest

from westerkwartier import settings
from westerkwartier.pipeline import index_page
from westerkwartier.reporting import html as report_html
from westerkwartier.reporting import index_sections, sections

HOSTILE_NAME = 'Wester<script>alert("wk")</script>kwartier & Co'
HOSTILE_LABEL = "Banen <b>per</b> 1.000 & 'inwoners'"
PACKAGE = Path(__file__).resolve().parent.parent / "westerkwartier"


def _assert_escaped(out: str) -> None:
    assert "<script" not in out and "<b>" not in out
    assert "&lt;script&gt;" in out
    assert "&amp; Co" in out or "&amp; &#39;inwoners&#39;" in out
    assert report_html.check_html(f'<html lang="nl">{out}</html>') == []


@pytest.fixture(scope="module")
def hostile_report():
    """A real report's data with a municipality and an indicator named like an attack."""
    from westerkwartier.reporting.report_data import load_report_data

    old = settings.offline
    settings.offline = True
    try:
        data = load_report_data("talent", "GM1969", peildatum="2026-11-27")
    finally:
        settings.offline = old
    rows = list(data.rows)
    rows[0] = dataclasses.replace(rows[0], label=HOSTILE_LABEL, own=None)
    regions = data.regions.copy()
    regions.loc[regions["code"] == "GM1969", "name"] = HOSTILE_NAME
    return dataclasses.replace(
        data,
        region=dataclasses.replace(data.region, name=HOSTILE_NAME),
        regions=regions,
        rows=rows,
        gegevensmelding="Let op <i>nieuw</i> & oud",
    )


@pytest.mark.parametrize("part", ["kop", "scorekaart", "ontbreekt"])
def test_report_parts_escape_names_from_data(hostile_report, part):
    if part == "scorekaart":
        section = hostile_report.rows[0].section
        out = sections.scorekaart(hostile_report, section)
        assert "Banen &lt;b&gt;per&lt;/b&gt; 1.000 &amp; &#39;inwoners&#39;" in out
    else:
        out = getattr(sections, part)(hostile_report)
    _assert_escaped(out)
    assert HOSTILE_NAME not in out


def test_header_attributes_are_escaped(hostile_report):
    out = sections.kop(hostile_report)
    header = re.match(r"<header[^>]*>", out).group(0)
    assert 'data-gemeente="Wester&lt;script&gt;alert(&#34;wk&#34;)&lt;/script&gt;kwartier' in header
    assert "Let op &lt;i&gt;nieuw&lt;/i&gt; &amp; oud" in out


def test_a_notice_that_says_let_op_itself_is_not_prefixed_twice(hostile_report):
    batch = "Let op: CBS was niet bereikbaar toen dit rapport werd gemaakt."
    out = sections.kop(dataclasses.replace(hostile_report, gegevensmelding=batch))
    assert "<strong>Let op:</strong> CBS was niet bereikbaar" in out
    assert out.count("Let op") == 1


def test_tables_escape_cells_caption_and_tones():
    frame = pd.DataFrame({"Gemeente": [HOSTILE_NAME], "Score": ["<b>1</b>"], "_x": ["<i>"]})
    out = index_sections.html_table(frame, "Kop <script>", tones=['x" onclick="y'])
    _assert_escaped(out)
    assert 'class="x&#34; onclick=&#34;y"' in out and "<i>" not in out
    plain = sections.tabel(frame, "Kop & <script>")
    _assert_escaped(plain)


def test_index_page_escapes_entries_and_title():
    entry = index_page.IndexEntry(
        HOSTILE_NAME, HOSTILE_LABEL, "2024", dt.date(2026, 6, 23), dt.date(2026, 11, 27), "a.html"
    )
    out = index_page.render_index([entry], title="Rapporten <script>", notice="<b>Let op</b> &")
    _assert_escaped(out)
    assert "<title>Rapporten &lt;script&gt;</title>" in out
    assert "<strong>&lt;b&gt;Let op&lt;/b&gt; &amp;</strong>" in out
    assert out.index("gegevensmelding") < out.index("<h1>")
    assert f"<style>\n{report_html.report_css()}\n</style>" in out  # our own CSS, verbatim


def test_environment_escapes_and_refuses_missing_values():
    env = report_html.template_environment()
    assert env.autoescape is True
    with pytest.raises(jinja2.UndefinedError):
        report_html.render_template("voetnoot.html.j2")
    assert report_html.render_template("voetnoot.html.j2", text="a < b") == (
        '<p class="voetnoot">a &lt; b</p>'
    )


def test_every_template_parses():
    env = report_html.template_environment()
    names = env.list_templates()
    assert "index.html.j2" in names and "kop.html.j2" in names
    for name in names:
        env.get_template(name)


#: Modules that build HTML: their markup must come from templates, not from string literals.
HTML_BUILDERS = [
    "reporting/sections.py",
    "reporting/index_sections.py",
    "pipeline/index_page.py",
    "pipeline/render.py",
    "pipeline/batch.py",
]
_TAG = re.compile(r"<(?:p|div|table|tr|td|th|h[1-6]|ul|ol|li|dl|dt|dd|span|strong|caption|a)\b")


def _markup_literals(source: str) -> list[str]:
    """String literals (f-strings included, docstrings left out) that contain an HTML tag."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and _TAG.search(node.value)
    ]


def test_markup_finder_sees_an_f_string():
    assert _markup_literals('def f(x):\n    """<p>doc</p>"""\n    return f"<p>{x}</p>"\n')


@pytest.mark.parametrize("module", HTML_BUILDERS)
def test_no_html_built_in_code(module):
    assert _markup_literals((PACKAGE / module).read_text(encoding="utf-8")) == []


def test_notebook_warnings_reach_the_user_as_one_dutch_line_each():
    from westerkwartier.reporting.html import notebook_notices

    text = (
        "/work/x/indicators/panel.py:373: SnapshotFallbackWarning: CBS is niet bereikbaar; "
        "tabel A komt uit de offline snapshot\n"
        "  return get_table(table_id)\n"
        "/work/x/indicators/panel.py:373: SnapshotFallbackWarning: CBS is niet bereikbaar; "
        "tabel A komt uit de offline snapshot\n"
        "  return get_table(table_id)\n"
        "Traceback (most recent call last):\n"
    )
    lines = notebook_notices(text)
    assert lines[0] == "Let op: CBS is niet bereikbaar; tabel A komt uit de offline snapshot"
    assert len(lines) == 2 and "panel.py" not in lines[0] and "get_table" not in "".join(lines)
    assert lines[1].endswith("Traceback (most recent call last):")
