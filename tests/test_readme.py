"""The README stays short: what the monitor is, how to set it up and use it, where the docs are.

Detail lives in ``docs/``; the README links it, and every link must lead somewhere.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MAX_WORDS = 1500


def test_readme_is_under_the_word_limit():
    words = len(README.read_text(encoding="utf-8").split())  # as `wc -w README.md` counts
    assert 200 < words < MAX_WORDS, f"README has {words} words; move detail to docs/"


def test_readme_links_lead_to_files_in_the_repository():
    text = README.read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#]+)\)", text)
    assert "docs/reliability.md" in links and "docs/architecture.md" in links
    missing = [link for link in links if not (ROOT / link).is_file()]
    assert missing == []


def test_readme_keeps_the_two_set_up_commands_and_the_exit_codes():
    from westerkwartier.errors import EXIT_CODES

    text = README.read_text(encoding="utf-8")
    assert "make report" in text and "make test" in text
    listed = {int(code) for code in re.findall(r"^\| (\d+) \|", text, re.M)}
    assert listed == set(EXIT_CODES)
