"""Docstrings, comments and configuration explain in place.

They never send the reader to a design note, an issue number or a numbered round that is not in
the repository; "meld dit als issue" (report it to the project) is fine.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = re.compile(
    r"DESIGN\.md|\bBRIEF\b|\bissues? #?\d+|\(#\d+\)|§\s*\d|\bpar\. \d|\b(?:[Rr]ound|[Rr]onde) \d+\b"
)


def test_no_references_to_notes_or_issues_outside_the_repository():
    files = sorted(
        p
        for p in (ROOT / "westerkwartier").rglob("*")
        if p.suffix in {".py", ".toml", ".j2", ".html", ".tpl"} and p.is_file()
    )
    assert len(files) > 50
    hits = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for p in files
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert hits == [], "explain in place instead of pointing outside the repository"
