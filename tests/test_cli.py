"""The command line: help texts, exit codes, messages without tracebacks."""

from __future__ import annotations

import subprocess
import sys

import pytest

from westerkwartier import cli, settings


@pytest.mark.parametrize("command", ["fetch", "snapshot", "regions", "overzicht"])
def test_every_subcommand_has_help_with_exit_codes(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "Exitcodes" in out and "ongeldige invoer" in out


def test_regions_resolves_a_name(capsys):
    assert cli.main(["regions", "sudwest fryslan"]) == 0
    out = capsys.readouterr().out
    assert "Súdwest-Fryslân (GM1900)" in out and "Fryslân (PV21)" in out


def test_regions_gives_the_current_name_of_an_old_one(capsys):
    assert cli.main(["regions", "Tietjerksteradeel"]) == 0
    out = capsys.readouterr().out
    assert "Tytsjerksteradiel (GM0737)" in out
    assert "vroegere naam: Tietjerksteradeel (tot 1 januari 1989)" in out
    assert cli.main(["regions", "Westerkwartier"]) == 0
    assert "vroegere naam" not in capsys.readouterr().out  # a merger is no earlier name


def test_unknown_municipality_exits_3_with_suggestions(capsys):
    assert cli.main(["regions", "Westerkwartir"]) == 3
    err = capsys.readouterr().err
    assert "Westerkwartier" in err and "Traceback" not in err


def test_dissolved_municipality_explains_the_merger(capsys):
    assert cli.main(["regions", "GM0015"]) == 3
    err = capsys.readouterr().err
    assert "Grootegast" in err and "2019" in err and "Westerkwartier" in err


def test_debug_shows_the_traceback():
    with pytest.raises(Exception, match="Westerkwartir"):
        cli.main(["--debug", "regions", "Westerkwartir"])


def test_overzicht_prints_a_summary_offline(capsys, monkeypatch):
    monkeypatch.setattr(settings, "offline", False)
    assert cli.main(["--offline", "overzicht", "--gemeente", "westerkwartier"]) == 0
    out = capsys.readouterr().out
    assert "Westerkwartier (GM1969)" in out
    assert "Noordenveld" in out  # a neighbour
    assert "86088NED" in out and "Bron: CBS" in out


def test_fetch_offline_without_cache_reads_the_snapshot(capsys):
    assert cli.main(["--offline", "fetch", "85036NED", "--regio", "GM1969"]) == 0
    out = capsys.readouterr().out
    assert "bron: snapshot" in out and "GM1969" in out and "PV20" not in out


def test_fetch_offline_of_an_online_only_table_exits_4(capsys):
    assert cli.main(["--offline", "fetch", "37259ned", "--regio", "GM1969"]) == 4
    err = capsys.readouterr().err.lower()
    assert "snapshot" in err and "alleen online" in err


def test_usage_error_exits_2():
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["regions", "--onbekend"])
    assert exit_info.value.code == 2


def test_installed_entry_point_runs():
    result = subprocess.run(
        [sys.executable, "-m", "westerkwartier.cli", "regions", "1969"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "GM1969" in result.stdout


def test_indicators_lists_a_theme(capsys):
    assert cli.main(["indicators", "--thema", "Woonklimaat"]) == 0
    out = capsys.readouterr().out
    assert "woz_waarde" in out and "netto_arbeidsparticipatie" not in out


def test_indicators_unknown_theme_exits_3(capsys):
    assert cli.main(["indicators", "--thema", "Sport"]) == 3
    assert "kies uit" in capsys.readouterr().err


def test_panel_shows_benchmarks_with_dutch_numbers(capsys):
    assert cli.main(["--offline", "panel", "--gemeente", "1969", "--thema", "Woonklimaat"]) == 0
    out = capsys.readouterr().out
    assert "Groningen (provincie)" in out and "Nederland" in out and "Noordenveld" in out
    assert "€ 301.000" in out  # WOZ 2024 of Westerkwartier: 301 (x 1 000 euro) in 85036NED
    assert "nan" not in out.lower().replace("financ", "")


def test_panel_writes_excel_and_csv(tmp_path, capsys):
    import pandas as pd

    xlsx = tmp_path / "wk.xlsx"
    assert cli.main(["--offline", "panel", "--gemeente", "GM1969", "--uit", str(xlsx)]) == 0
    sheet = pd.read_excel(xlsx)
    row = sheet.loc[sheet["indicator"] == "woz_waarde"].iloc[0]
    assert row["Westerkwartier"] == 301000
    csv = tmp_path / "wk.csv"
    assert cli.main(["--offline", "panel", "--gemeente", "GM1969", "--uit", str(csv)]) == 0
    assert "301000" in csv.read_text(encoding="utf-8-sig").replace(".", "")


def test_panel_rejects_a_non_numeric_year():
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["panel", "--jaar", "tien"])
    assert exit_info.value.code == 2


# -- report: PDF and ambitions ------------------------------------------------------------------
def test_report_pdf_without_chromium_says_how_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WESTERKWARTIER_CHROMIUM", str(tmp_path / "geen-chromium"))
    code = cli.main(["--offline", "report", "--pdf", "--uit", str(tmp_path / "uit")])
    err = capsys.readouterr().err
    assert code == 8
    assert "Chromium niet gevonden" in err and "install-browser.sh" in err and "--pdf" in err
    assert "Traceback" not in err
    assert not (tmp_path / "uit").exists()  # checked before any report was run


def test_report_pdf_and_ambities_are_for_one_municipality(tmp_path, capsys):
    code = cli.main(
        ["--offline", "report", "--provincie", "Groningen", "--pdf", "--uit", str(tmp_path)]
    )
    assert code == 2
    assert "--pdf" in capsys.readouterr().err


def test_report_with_a_bad_ambitions_file_stops_before_running(tmp_path, capsys):
    bad = tmp_path / "doelen.toml"
    bad.write_text('[[ambitie]]\nindicator = "werkloosheid"\ndoel = "laag"\n', encoding="utf-8")
    uit = tmp_path / "uit"
    code = cli.main(["--offline", "report", "--ambities", str(bad), "--uit", str(uit)])
    err = capsys.readouterr().err
    assert code == 3
    assert "doelen.toml" in err and "regel 3" in err
    assert not uit.exists()
    code = cli.main(["--offline", "report", "--ambities", str(tmp_path / "weg.toml")])
    assert code == 3 and "bestaat niet" in capsys.readouterr().err
