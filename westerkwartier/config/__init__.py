"""Configuration files of the monitor, and the one way to read them.

Every file the package reads as configuration lives in this folder: the indicator catalogue
(``indicators.toml``), the report catalogue (``rapporten.toml``), the composite indices
(``indices.toml``), peers (``peers.toml``), municipal mergers (``herindelingen.toml``,
``merger_shares.toml``), the units of exported tables (``export_units.toml``), what the
offline snapshot is built from (``snapshot.toml``) and where long words in the reports may
break (``afbreken.toml``). Files a person writes (a batch manifest,
an ambitions file) are read the same way.

:func:`read_toml` reads any of them with one error policy: a missing file, a folder, another
encoding or a TOML mistake becomes a :class:`ConfigError` that names the file, the line and
the fix, in Dutch. :class:`TomlLines` finds the line of a key afterwards (``tomllib`` keeps no
positions), so checks can point at the line too; :func:`suggest` writes the one
"Bedoelde u ...?" hint.
"""

from __future__ import annotations

import codecs
import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from westerkwartier.errors import InputError

#: The folder holding the configuration files.
CONFIG_DIR: Path = Path(__file__).resolve().parent


def config_file(name: str) -> Path:
    """Return the path of a configuration file of the package.

    Examples
    --------
    >>> config_file("indicators.toml").name
    'indicators.toml'
    """
    return CONFIG_DIR / name


#: A problem in a file: (line number or None, message).
Problem = tuple[int | None, str]


class ConfigError(InputError):
    """A configuration file cannot be used; ``problems`` lists ``(line, message)`` pairs.

    Parameters
    ----------
    path : Path or str
        The file.
    problems : sequence of (int or None, str)
        Each problem with its line number (None when it concerns the whole file).
    what : str
        What the file is, for the message (``het manifest``, ``het ambitiebestand``).
    fix : str
        The last sentence: what to do.
    """

    def __init__(
        self,
        path: Path | str,
        problems: Sequence[Problem],
        *,
        what: str = "het bestand",
        fix: str = "Pas het bestand aan en probeer opnieuw.",
    ) -> None:
        self.path = path
        self.problems = list(problems)
        lines = [f"  regel {n}: {m}" if n else f"  {m}" for n, m in self.problems]
        count = len(self.problems)
        noun = "fout" if count == 1 else "fouten"
        super().__init__(
            f"{what[0].upper()}{what[1:]} {path} bevat {count} {noun}:\n"
            + "\n".join(lines)
            + f"\n{fix}"
        )


def suggest(word: str, choices: Iterable[str], *, n: int = 1, cutoff: float = 0.6) -> str:
    """Return a " Bedoelde u ...?" hint with the closest choices, or an empty string.

    Examples
    --------
    >>> suggest("naaam", ["naam", "label"])
    " Bedoelde u 'naam'?"
    >>> suggest("talnt", ["talent", "aantrekkelijkheid"], n=2)
    " Bedoelde u 'talent'?"
    >>> suggest("xyz", ["naam"])
    ''
    """
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=n, cutoff=cutoff)
    if not close:
        return ""
    return " Bedoelde u " + " of ".join(repr(c) for c in close) + "?"


_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def _decode(path: Path, data: bytes) -> str:
    """Decode UTF-8 (with or without BOM); name the encoding of anything else."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            raise _encoding_error(path, name)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        guess = "Windows-1252 (ANSI) of Latin-1"
        try:
            data.decode("utf-16")
            if b"\x00" in data:
                guess = "UTF-16"
        except UnicodeDecodeError:
            pass
        raise _encoding_error(path, guess, line) from None


def _encoding_error(path: Path, name: str, line: int | None = None) -> ConfigError:
    return ConfigError(
        path,
        [
            (
                line,
                f"het bestand is niet als UTF-8 opgeslagen (het lijkt {name}). Sla het op als "
                "UTF-8 (in een teksteditor: 'Opslaan als' met codering UTF-8).",
            )
        ],
    )


def _syntax_problem(err: tomllib.TOMLDecodeError) -> Problem:
    m = re.search(r"\(at line (\d+), column (\d+)\)", str(err))
    reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(err))
    line = int(m.group(1)) if m else None
    column = f", kolom {m.group(2)}" if m else ""
    return (
        line,
        f"geen geldige TOML{column} ({reason}). Controleer aanhalingstekens rond tekst "
        '(naam = "talent"), komma\'s in lijsten en [koppen].',
    )


@dataclass
class TomlFile:
    """A TOML file read by :func:`read_toml`: its text, its data and where each key is."""

    path: Path
    text: str
    data: dict[str, Any]
    lines: TomlLines = field(repr=False)

    def line(self, *path: Any) -> int | None:
        """Line of ``key =`` at ``path`` (keys and array indices), else of its header."""
        return self.lines.key(*path)


def read_toml(path: Path | str, *, what: str = "het bestand", missing_hint: str = "") -> TomlFile:
    """Read a TOML file with one error policy for every configuration file.

    Parameters
    ----------
    path : Path or str
        The file.
    what : str
        What the file is, for messages (``het ambitiebestand``).
    missing_hint : str
        Added to the message when the file does not exist (where an example is, which
        option gives the path).

    Returns
    -------
    TomlFile
        Text, parsed data and a line lookup.

    Raises
    ------
    ConfigError
        The file is missing, a folder, unreadable, not UTF-8 (the encoding is named) or not
        valid TOML (with line and column).
    """
    file = Path(path)
    if not file.exists():
        hint = f" {missing_hint}" if missing_hint else ""
        raise ConfigError(file, [(None, f"het bestand bestaat niet.{hint}")], what=what)
    if file.is_dir():
        raise ConfigError(
            file,
            [(None, "dit is een map, geen bestand. Geef het pad van het TOML-bestand.")],
            what=what,
        )
    try:
        data = file.read_bytes()
    except OSError as err:
        raise ConfigError(
            file, [(None, f"het bestand is niet te lezen ({err.strerror or err}).")], what=what
        ) from None
    try:
        text = _decode(file, data)
    except ConfigError as err:
        raise ConfigError(file, err.problems, what=what) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(file, [_syntax_problem(err)], what=what) from None
    return TomlFile(path=file, text=text, data=raw, lines=TomlLines(text))


class TomlLines:
    r"""Find the line of a key or a value in TOML text (``tomllib`` keeps no positions).

    A small line scanner: it follows ``[table]`` and ``[[array]]`` headers (counting array
    entries) and records the line of every ``key =``. Good enough for the configuration files
    of this package; when it cannot place something it returns the nearest header line or None.

    Examples
    --------
    >>> text = 'titel = "x"\n\n[[ambitie]]\nindicator = "a"\n[[ambitie]]\ndoel = 3\n'
    >>> lines = TomlLines(text)
    >>> lines.key("titel"), lines.key("ambitie", 1, "doel"), lines.key("ambitie", 1, "x")
    (1, 6, 5)
    """

    _ARRAY = re.compile(r"^\s*\[\[\s*([^\]]+?)\s*\]\]")
    _TABLE = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]\s*(?:#.*)?$")
    _KEY = re.compile(
        r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
    )

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.keys: dict[tuple[Any, ...], int] = {}
        self.spans: dict[tuple[Any, ...], tuple[int, int]] = {}
        self.headers: dict[tuple[Any, ...], int] = {}
        counters: dict[str, int] = {}
        current: tuple[Any, ...] = ()
        last_key: tuple[Any, ...] | None = None
        for number, line in enumerate(self.lines, start=1):
            if m := self._ARRAY.match(line):
                name = self._parts(m.group(1))
                joined = ".".join(name)
                counters[joined] = counters.get(joined, -1) + 1
                current = (*name, counters[joined])
                self.headers[current] = number
                last_key = None
                continue
            if (m := self._TABLE.match(line)) and "=" not in line.split("]")[0]:
                name = self._parts(m.group(1))
                current = self._under_array(name, counters)
                self.headers[current] = number
                last_key = None
                continue
            if m := self._KEY.match(line):
                path = (*current, *self._parts(m.group(1)))
                self.keys.setdefault(path, number)
                self.spans[path] = (number, number)
                last_key = path
            elif last_key is not None and line.strip() and not line.lstrip().startswith("#"):
                start, _ = self.spans[last_key]
                self.spans[last_key] = (start, number)

    @staticmethod
    def _parts(text: str) -> tuple[str, ...]:
        parts = re.findall(r'"[^"]*"|\'[^\']*\'|[^.\s]+', text)
        return tuple(p.strip("\"'") for p in parts)

    @staticmethod
    def _under_array(name: tuple[str, ...], counters: Mapping[str, int]) -> tuple[Any, ...]:
        for cut in range(len(name) - 1, 0, -1):
            joined = ".".join(name[:cut])
            if joined in counters:
                return (*name[:cut], counters[joined], *name[cut:])
        return name

    def key(self, *path: Any) -> int | None:
        """Line of ``key =`` at ``path``, else of the nearest enclosing header."""
        if path in self.keys:
            return self.keys[path]
        for cut in range(len(path), -1, -1):
            if path[:cut] in self.headers:
                return self.headers[path[:cut]]
        return None

    def value(self, text: str, *path: Any) -> int | None:
        """Line where the string ``text`` appears in the value of ``path``."""
        if path in self.spans:
            start, end = self.spans[path]
            for number in range(start, end + 1):
                if re.search(r"[\"']" + re.escape(text) + r"[\"']", self.lines[number - 1]):
                    return number
        return self.key(*path)


#: What a key of a checked table may hold: (required, accepted types, Dutch description).
FieldSpec = tuple[bool, tuple[type, ...], str]


def is_int(value: Any) -> TypeGuard[int]:
    """Tell whether a TOML value is an integer (a bool is not).

    Examples
    --------
    >>> is_int(2030), is_int(True), is_int(2030.0)
    (True, False, False)
    """
    return type_ok(value, (int,))


def type_ok(value: Any, types: tuple[type, ...]) -> bool:
    """Tell whether a TOML value has one of the accepted types (a bool is never a number).

    Examples
    --------
    >>> type_ok(True, (int,)), type_ok(3, (int, float)), type_ok(float("nan"), (float,))
    (False, True, False)
    """
    if isinstance(value, bool):
        return bool in types
    if isinstance(value, float) and value != value:  # nan: TOML allows it, no setting does
        return False
    return isinstance(value, types)


def check_fields(
    table: Mapping[str, Any],
    fields: Mapping[str, FieldSpec],
    *,
    where: str,
    line_of: Any,
    header: int | None = None,
) -> list[Problem]:
    """Check one TOML table against its fields: unknown keys, wrong types, missing keys.

    Parameters
    ----------
    table : mapping
        The table as ``tomllib`` read it.
    fields : mapping
        Key -> (required, accepted types, description of the type in Dutch).
    where : str
        How the message names the table (``ambitie 2``); empty for the top level.
    line_of : callable
        ``key -> line number or None``.
    header : int, optional
        Line of the table's header, for problems that concern the table as a whole.

    Returns
    -------
    list of (int or None, str)
        The problems; empty when the table is right.

    Examples
    --------
    >>> fields = {"doel": (True, (int, float), "getal"), "eigenaar": (True, (str,), "tekst")}
    >>> check_fields({"doell": 3}, fields, where="ambitie 1", line_of=lambda k: 7)
    [(7, "ambitie 1: onbekende sleutel 'doell'. Bedoelde u 'doel'?"), (None, "ambitie 1: \
verplichte sleutel 'doel' (getal) ontbreekt."), (None, "ambitie 1: verplichte sleutel \
'eigenaar' (tekst) ontbreekt.")]
    """
    prefix = f"{where}: " if where else ""
    problems: list[Problem] = []
    for key, value in table.items():
        if key not in fields:
            problems.append(
                (
                    line_of(key) or header,
                    f"{prefix}onbekende sleutel {key!r}.{suggest(key, fields)}",
                )
            )
        elif not type_ok(value, fields[key][1]):
            problems.append(
                (
                    line_of(key) or header,
                    f"{prefix}{key!r} moet een {fields[key][2]} zijn, niet {value!r}.",
                )
            )
    for key, (required, _, desc) in fields.items():
        if required and key not in table:
            problems.append((header, f"{prefix}verplichte sleutel {key!r} ({desc}) ontbreekt."))
    return problems
