"""The harness itself: a page that breaks the rules is caught, and never reaches the network."""

from __future__ import annotations

BAD_PAGE = """<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>Slecht</title>
<link rel="stylesheet" href="https://fonts.example.org/a.css"></head>
<body><h1>Slecht</h1>
<img src="https://example.org/grafiek.png" alt="grafiek.png">
<img src="ontbreekt.png" alt="Een figuur waarvan het bestand ontbreekt op de schijf">
<script>console.error("kapot"); fetch("http://198.51.100.7/x");</script>
</body></html>
"""


def test_external_requests_are_blocked_and_errors_recorded(browse, tmp_path):
    path = tmp_path / "slecht.html"
    path.write_text(BAD_PAGE, encoding="utf-8")
    page = browse.open(path.as_uri())
    page.wait_for_timeout(200)  # let the fetch fail
    log = browse.log
    widths = page.evaluate("() => [...document.images].map(i => i.naturalWidth)")
    browse.log = type(log)()  # this test expects a dirty page: do not fail it in teardown
    assert {"https://fonts.example.org/a.css", "https://example.org/grafiek.png"} <= set(
        log.external_requests
    )
    assert "http://198.51.100.7/x" in log.external_requests
    assert "kapot" in log.console_errors
    assert any("ontbreekt.png" in f for f in log.failed_requests)
    assert widths == [0, 0]
