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


def _fresh_environment(monkeypatch):
    """The environment a new kernel makes, counting the templates it compiles."""
    compiled: list[str] = []
    real = jinja2.Environment.compile

    def counted(self, source, name=None, filename=None, raw=False, defer_init=False):
        compiled.append(name)
        return real(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", counted)
    report_html.template_environment.cache_clear()
    return report_html.template_environment(), compiled


def test_a_new_kernel_loads_the_compiled_parts_and_fills_them_alike(monkeypatch):
    report_html.template_environment.cache_clear()
    env, compiled = _fresh_environment(monkeypatch)
    names = env.list_templates()
    first = report_html.render_template("voetnoot.html.j2", text="a < b")
    for name in names:
        env.get_template(name)
    assert sorted(compiled) == sorted(names)
    folder = Path(settings.cache_dir) / report_html.COMPILED_DIR
    assert len(list(folder.glob("*.cache"))) == len(names)

    env, compiled = _fresh_environment(monkeypatch)
    assert report_html.render_template("voetnoot.html.j2", text="a < b") == first
    for name in names:
        env.get_template(name)
    assert compiled == []  # all of them came from the cache folder

    # a damaged file (Jinja's header, then garbage) is compiled again, and replaced
    victim = sorted(folder.glob("*.cache"))[0]
    damaged = jinja2.bccache.bc_magic + b"\x80\x04kapot" * 10
    victim.write_bytes(damaged)
    env, compiled = _fresh_environment(monkeypatch)
    for name in names:
        env.get_template(name)
    assert len(compiled) == 1 and victim.read_bytes() != damaged
    assert report_html.render_template("voetnoot.html.j2", text="a < b") == first
    report_html.template_environment.cache_clear()


def test_parts_are_filled_when_the_compiled_ones_cannot_be_kept(monkeypatch, tmp_path):
    blocked = tmp_path / "geen-map"
    blocked.write_text("een bestand waar de cachemap hoort")
    monkeypatch.setattr(settings, "cache_dir", blocked)
    env, compiled = _fresh_environment(monkeypatch)
    assert report_html.render_template("voetnoot.html.j2", text="a < b") == (
        '<p class="voetnoot">a &lt; b</p>'
    )
    assert compiled == ["voetnoot.html.j2"]
    report_html.template_environment.cache_clear()


def test_compiled_parts_are_kept_apart_by_the_settings_they_were_compiled_with():
    a = report_html.CompiledTemplates("aaaa")
    b = report_html.CompiledTemplates("bbbb")
    bucket = jinja2.bccache.Bucket(jinja2.Environment(), "x", "checksum")
    assert a._get_cache_filename(bucket) != b._get_cache_filename(bucket)
    assert Path(a._get_cache_filename(bucket)).parent == Path(settings.cache_dir) / "sjablonen"


def test_one_environment_fills_every_part_of_a_report():
    """The wijk section had a Jinja environment of its own, with other filters; every HTML
    part now comes from the one environment, so autoescaping and strictness are set once."""
    env = report_html.template_environment()
    root = report_html.TEMPLATES_DIR
    folders = {p.relative_to(root).parts[0] for p in root.rglob("*.j2")}
    assert folders == {"html", "wk_rapport"}  # the parts, and nbconvert's page template
    parts = [str(p.relative_to(report_html.PARTS_DIR)) for p in report_html.PARTS_DIR.rglob("*.j2")]
    assert sorted(env.list_templates()) == sorted(parts) and "wijken.html.j2" in parts
    assert {"heel", "breakable"} <= set(env.filters)
    source = (PACKAGE / "reporting" / "wijk_sections.py").read_text(encoding="utf-8")
    assert "jinja2.Environment(" not in source


def test_a_wijk_name_breaks_after_a_slash_without_a_character_in_copied_text():
    """A zero-width space after the slash of "Weesperbuurt/Plantage" let A4 break the name
    there, but ended up in text copied from the page; ``<wbr>`` is markup, not text."""
    env = report_html.template_environment()
    shy = "\u00ad"
    out = env.from_string("<td>{{ name | breakable(9) }}</td>").render(
        name="Weesperbuurt/Plantage <b>"
    )
    assert out == f"<td>Weesper{shy}buurt/<wbr>Plantage &lt;b&gt;</td>"
    assert "\u200b" not in out
    # the text a reader copies: the page's text without its markup and soft hyphens
    copied = re.sub(r"<[^>]+>", "", out).replace(shy, "")
    assert copied == "Weesperbuurt/Plantage &lt;b&gt;"


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


def _exported_notebook():
    """A small executed notebook with what a report page holds: text, HTML, figures, a table."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells.append(nbformat.v4.new_markdown_cell("# Talent & *wonen*\n\nZie [CBS](#bronnen)."))
    code = nbformat.v4.new_code_cell("toon()")
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4"/></svg>'
    code.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                "text/html": '<section class="kop" data-code="GM1969"><p>Één &amp; twee</p>'
                "<table><tr><td>74,2%</td></tr></table></section>"
            },
        ),
        nbformat.v4.new_output(
            "display_data",
            data={"image/svg+xml": svg, "text/plain": "Lijngrafiek: twee lijnen"},
            metadata={"image/svg+xml": {"alt": "Lijngrafiek: twee lijnen"}},
        ),
        nbformat.v4.new_output(
            "display_data",
            data={"image/png": "iVBORw0KGgo=", "text/plain": "Kaart"},
            metadata={"image/png": {"alt": "Kaart: wijken"}},
        ),
        nbformat.v4.new_output("stream", name="stdout", text="Let op: een melding\n"),
    ]
    nb.cells.append(code)
    return nb


def test_page_is_nbconverts_own_document_without_its_second_pass(monkeypatch):
    """The page exporter renders what nbconvert's HTMLExporter renders, minus its re-parse.

    nbconvert parses each finished page with BeautifulSoup and writes it out again; ours does
    not (it would cost 0,12 s a report). After the same normalisation both must be the same
    document, so an nbconvert upgrade that changes what its exporter adds shows up here.
    """
    import bs4
    import nbconvert.exporters.html as nbconvert_html
    from nbconvert import HTMLExporter

    nb = _exported_notebook()
    resources = {"wk_css": report_html.report_css(), "metadata": {"name": "Rapport"}}
    stock, _ = HTMLExporter(embed_images=False, **report_html.EXPORT_OPTIONS).from_notebook_node(
        nb, resources=dict(resources)
    )

    def no_soup(*args, **kwargs):
        raise AssertionError("the page exporter parsed the page again")

    monkeypatch.setattr(nbconvert_html, "BeautifulSoup", no_soup)
    ours, _ = report_html._exporter(embed_images=False).from_notebook_node(
        nb, resources=dict(resources)
    )
    assert "Lijngrafiek: twee lijnen" in ours and 'alt="Kaart: wijken"' in ours
    assert "text/plain" not in ours and "Één &amp; twee" in ours
    assert str(bs4.BeautifulSoup(ours, features="html.parser")) == stock


def test_exported_page_passes_the_house_check_and_keeps_a_missing_alt_visible():
    import nbformat

    nb = _exported_notebook()
    page = report_html.export_html(nb, title="Rapport")
    assert report_html.check_html(page) == []
    assert page.count("<img") == 2 and 'lang="nl"' in page
    bare = nbformat.v4.new_code_cell("toon()")
    bare.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="})]
    nb.cells.append(bare)
    problems = report_html.check_html(report_html.export_html(nb, title="Rapport"))
    assert any("alt-tekst" in p for p in problems)


def test_heading_anchors_are_closed_so_a_browser_does_not_swallow_the_page():
    """nbconvert writes each heading's anchor link as XML (``<a … />``); the page must not.

    A browser reads ``<a … />`` as an opening tag: everything after the first heading ends
    up inside that link (headings without text, blank printed pages).
    """
    page = report_html.export_html(_exported_notebook(), title="Rapport")
    anchors = re.findall(r'<a class="anchor-link" href="#[^"]+"[^>]*>', page)
    assert anchors and all(not a.endswith("/>") for a in anchors)
    assert re.search(r'<a class="anchor-link" href="#[^"]+"></a></h1>', page)
    assert report_html.check_html(page) == []


@pytest.mark.parametrize(
    ("markup", "refused"),
    [
        ('<h2 id="x">X<a class="anchor-link" href="#x" /></h2>', True),
        ("<div/><p>tekst</p>", True),
        ('<p>regel<br/>regel<br /></p><img src="data:image/png;base64,AA==" alt="x"/>', False),
        ('<svg viewBox="0 0 1 1"><path d="M0 0"/><g/></svg><p>na de svg</p><span/>', True),
        ('<svg viewBox="0 0 1 1"><path d="M0 0"/></svg><math><mi/></math>', False),
        ("<p>a/&gt; en &lt;b/&gt;</p>", False),
    ],
)
def test_house_check_refuses_an_element_a_browser_leaves_open(markup, refused):
    problems = report_html.check_html(f'<html lang="nl"><body>{markup}</body></html>')
    assert any("een browser sluit die niet" in p for p in problems) is refused
    if refused:
        fixed = report_html.open_empty_elements(markup)
        assert report_html.check_html(f'<html lang="nl"><body>{fixed}</body></html>') == []
