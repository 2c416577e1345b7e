"""The one TOML loader: every configuration file, one error policy, Dutch and with lines."""

from __future__ import annotations

import pytest

from westerkwartier.config import (
    CONFIG_DIR,
    ConfigError,
    TomlLines,
    check_fields,
    read_toml,
    suggest,
)
from westerkwartier.errors import EXIT_CODES


@pytest.mark.parametrize("name", sorted(p.name for p in CONFIG_DIR.glob("*.toml")))
def test_every_package_config_file_reads(name):
    file = read_toml(CONFIG_DIR / name)
    assert file.data, name


def test_missing_file_says_where_an_example_is(tmp_path):
    with pytest.raises(ConfigError, match="bestaat niet. Zie voorbeeld.toml") as info:
        read_toml(tmp_path / "weg.toml", what="het manifest", missing_hint="Zie voorbeeld.toml.")
    assert str(info.value).startswith("Het manifest ")
    assert info.value.exit_code == 3 and 3 in EXIT_CODES


def test_a_folder_is_not_a_file(tmp_path):
    with pytest.raises(ConfigError, match="map, geen bestand"):
        read_toml(tmp_path)


@pytest.mark.parametrize(("encoding", "named"), [("utf-16", "UTF-16"), ("cp1252", "Windows-1252")])
def test_another_encoding_is_named(tmp_path, encoding, named):
    path = tmp_path / "a.toml"
    path.write_bytes('titel = "Eén café"\n'.encode(encoding))
    with pytest.raises(ConfigError, match=named) as info:
        read_toml(path)
    assert "UTF-8" in str(info.value)


def test_utf8_with_bom_is_fine(tmp_path):
    path = tmp_path / "a.toml"
    path.write_bytes('titel = "Eén"\n'.encode("utf-8-sig"))
    assert read_toml(path).data == {"titel": "Eén"}


def test_syntax_error_has_line_and_column(tmp_path):
    path = tmp_path / "a.toml"
    path.write_text("a = 1\nnaam = talent\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_toml(path)
    ((line, message),) = info.value.problems
    assert line == 2 and "kolom" in message and "aanhalingstekens" in message


def test_lines_of_keys_in_arrays_of_tables():
    text = 'titel = "x"\n\n[[ambitie]]\nindicator = "a"\n\n[[ambitie]]\ndoel = 3\n'
    lines = TomlLines(text)
    assert lines.key("titel") == 1
    assert lines.key("ambitie", 0, "indicator") == 4
    assert lines.key("ambitie", 1, "doel") == 7
    assert lines.key("ambitie", 1, "eigenaar") == 6  # falls back to its header


def test_check_fields_names_unknown_wrong_and_missing_keys():
    fields = {"doel": (True, (int, float), "getal"), "naam": (False, (str,), "tekst")}
    problems = check_fields(
        {"dooel": 1, "naam": 3, "extra": float("nan")},
        fields,
        where="ambitie 1",
        line_of=lambda key: {"dooel": 4, "naam": 5}.get(key),
        header=3,
    )
    assert (4, "ambitie 1: onbekende sleutel 'dooel'. Bedoelde u 'doel'?") in problems
    assert (5, "ambitie 1: 'naam' moet een tekst zijn, niet 3.") in problems
    assert (3, "ambitie 1: onbekende sleutel 'extra'.") in problems
    assert (3, "ambitie 1: verplichte sleutel 'doel' (getal) ontbreekt.") in problems
    assert check_fields({"doel": float("nan")}, fields, where="", line_of=lambda k: 1) == [
        (1, "'doel' moet een getal zijn, niet nan.")
    ]


def test_suggest_one_wording():
    assert suggest("taalent", ["talent", "aantrekkelijkheid"]) == " Bedoelde u 'talent'?"
    assert suggest("zzz", ["talent"]) == ""


def test_a_compound_breaks_where_the_hyphenation_file_says():
    """pyphen breaks "beweegrichtlijn" as "bewee-grichtlijn"; the file puts it right."""
    from westerkwartier.reporting.formatting import _dutch_hyphenator, breakable

    assert _dutch_hyphenator().inserted("beweegrichtlijn") == "bewee-gricht-lijn"
    shy = "\u00ad"
    assert (
        breakable("Voldoet aan de Beweegrichtlijn") == f"Voldoet aan de Beweeg{shy}richt{shy}lijn"
    )


def test_a_wrong_hyphenation_exception_names_its_line(tmp_path, monkeypatch):
    from westerkwartier.reporting import formatting

    path = tmp_path / "afbreken.toml"
    path.write_text(
        '[uitzonderingen]\nbeweegrichtlijn = "beweeg-richt-lijn"\nzorgpremie = "zorg-pre-mies"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(formatting, "config_file", lambda name: path)
    formatting.hyphenation_exceptions.cache_clear()
    try:
        with pytest.raises(ConfigError, match="regel 3") as info:
            formatting.hyphenation_exceptions()
        assert "zorgpremie" in str(info.value) and "beweegrichtlijn = " in str(info.value)
    finally:
        formatting.hyphenation_exceptions.cache_clear()
