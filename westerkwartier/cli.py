"""The ``westerkwartier`` command.

Each subcommand is a thin layer over a package function. Errors of the package become a short
Dutch message on stderr and the exit code of their class (``errors.EXIT_CODES``); ``--debug``
shows the full traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypedDict

from westerkwartier import __version__, settings
from westerkwartier.errors import EXIT_CODES, PdfUnavailable, WesterkwartierError

EXIT_TEXT = "Exitcodes:\n" + "\n".join(f"  {code}  {text}" for code, text in EXIT_CODES.items())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="westerkwartier",
        description=(
            "Regionale talent- en vitaliteitsmonitor op basis van CBS open data. "
            "Haalt CBS-tabellen op, bouwt de offline snapshot en zoekt gemeenten op."
        ),
        epilog=EXIT_TEXT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"westerkwartier {__version__}")
    parser.add_argument("--debug", action="store_true", help="toon de volledige foutmelding")
    parser.add_argument(
        "--offline",
        action="store_true",
        help="gebruik het netwerk niet: alleen cache en snapshot (ook: WESTERKWARTIER_OFFLINE=1)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="toon logregels")
    sub = parser.add_subparsers(dest="command", metavar="OPDRACHT", required=True)
    for add in SUBCOMMANDS:
        add(sub)
    return parser


def _command(sub, name: str, help: str, description: str) -> argparse.ArgumentParser:
    """Add a subcommand whose --help ends with the exit codes."""
    return sub.add_parser(
        name,
        help=help,
        description=description,
        epilog=EXIT_TEXT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _add_fetch(sub) -> None:
    fetch = _command(
        sub,
        "fetch",
        "haal een CBS-tabel op (cache, CBS, snapshot)",
        (
            "Haal een CBS-tabel op via de open-data-API, met codes (GM1969, 2023JJ00) in plaats "
            "van namen. Een herhaalde vraag komt uit de cache (data/cache) zonder netwerk; "
            "--refresh haalt opnieuw op. Is CBS onbereikbaar (of staat offline-modus aan), dan "
            "komt de tabel uit de cache of de offline snapshot, met een melding. Voorbeeld:\n"
            "  westerkwartier fetch 85036NED --regio GM1969 --regio PV20 "
            "--onderwerp GemiddeldeWOZWaardeVanWoningen --uit woz.csv"
        ),
    )
    fetch.add_argument("table", metavar="TABEL", help="CBS-tabelnummer, bijvoorbeeld 86088NED")
    fetch.add_argument("--regio", action="append", default=None, help="regiocode (herhaalbaar)")
    fetch.add_argument("--periode", action="append", default=None, help="periodecode, 2023JJ00")
    fetch.add_argument(
        "--onderwerp", action="append", default=None, help="onderwerp op sleutelstam (herhaalbaar)"
    )
    fetch.add_argument("--refresh", action="store_true", help="negeer de cache en haal opnieuw op")
    fetch.add_argument("--uit", type=Path, default=None, help="schrijf de gegevens naar CSV")
    fetch.set_defaults(func=_cmd_fetch)


def _add_snapshot(sub) -> None:
    snap = _command(
        sub,
        "snapshot",
        "bouw de offline snapshot uit de CBS-spiegel",
        (
            "Bouw data/snapshot uit de CBS-spiegel (echte CBS-exports): tabellen met codes, "
            "regioregister, vereenvoudigde grenzen en herkomst. Deterministisch: opnieuw bouwen "
            "geeft dezelfde bytes."
        ),
    )
    snap.add_argument(
        "--mirror", type=Path, default=None, help="map van de CBS-spiegel (WESTERKWARTIER_MIRROR)"
    )
    snap.add_argument("--uit", type=Path, default=None, help="doelmap (standaard data/snapshot)")
    snap.set_defaults(func=_cmd_snapshot)


def _add_regions(sub) -> None:
    reg = _command(
        sub,
        "regions",
        "zoek een gemeente op of toon de lijst",
        (
            "Zonder argument: alle gemeenten met provincie, COROP-gebied en inwonertal. "
            "Met een naam of code: die gemeente (hoofdletters en accenten maken niet uit: "
            "'sudwest fryslan', 'GM1969', '1969')."
        ),
    )
    reg.add_argument("query", nargs="?", metavar="GEMEENTE", help="naam of CBS-code")
    reg.add_argument("--provincie", default=None, help="alleen gemeenten in deze provincie")
    reg.set_defaults(func=_cmd_regions)


def _add_overzicht(sub) -> None:
    over = _command(
        sub,
        "overzicht",
        "korte samenvatting van een gemeente uit de offline snapshot",
        ("Toon gemeente, regio-indelingen, buurgemeenten en de beschikbare CBS-tabellen."),
    )
    over.add_argument("--gemeente", default="GM1969", help="naam of CBS-code (standaard GM1969)")
    over.set_defaults(func=_cmd_overzicht)


def _cmd_fetch(args: argparse.Namespace) -> int:
    from westerkwartier.sources import data

    table = data.get_table(
        args.table,
        regions=args.regio,
        periods=args.periode,
        topics=args.onderwerp,
        refresh=args.refresh,
        api=_catalogue_api(args.table),
    )
    print(f"{table.table_id}: {table.title}")
    print(f"  gewijzigd door CBS: {table.info.get('modified', 'onbekend')}")
    print(f"  {len(table.data)} rijen, {len(table.topics)} onderwerpen, bron: {table.source}")
    if args.uit:
        with _writing(args.uit):
            table.data.to_csv(args.uit, index=False)
        print(f"  geschreven naar {args.uit}")
    else:
        print(table.data.head(10).to_string(index=False))
    return 0


def _catalogue_api(table_id: str) -> str | None:
    """Return the CBS service the indicator catalogue names for a table (None: default)."""
    try:
        from westerkwartier.indicators.catalogue import load_catalogue

        return load_catalogue().table(table_id).api
    except WesterkwartierError:
        return None


def _cmd_snapshot(args: argparse.Namespace) -> int:
    from westerkwartier.sources import snapshot

    result = snapshot.build(args.mirror, args.uit)
    print(
        f"Snapshot gebouwd: {len(result['tables'])} tabellen, {result['bytes'] / 1e6:.1f} MB, "
        f"gegevens tot {result['data_date']}."
    )
    return 0


def _cmd_regions(args: argparse.Namespace) -> int:
    from westerkwartier.sources import regions

    registry = regions.load_registry()
    if args.query:
        region = registry.resolve(args.query)
        _print_region(region)
        for name, since in registry.former_names(region.code):
            print(f"{'vroegere naam':>18}: {name} (tot {since})")
        return 0
    frame = registry.municipalities()
    if args.provincie:
        query = args.provincie
        if not query.upper().startswith("PV"):
            query = f"provincie {query}"
        province = registry.resolve(query)
        frame = frame.loc[frame["province_code"] == province.code]
    columns = ["code", "name", "province_name", "corop_name", "population"]
    print(frame[columns].to_string(index=False))
    return 0


def _print_region(region) -> None:
    rows = {
        "gemeente": f"{region.name} ({region.code})",
        "provincie": f"{region.province_name} ({region.province})",
        "COROP-gebied": f"{region.corop_name} ({region.corop})",
        "GGD-regio": f"{region.ggd_name} ({region.ggd})",
        "arbeidsmarktregio": f"{region.labour_market_name} ({region.labour_market})",
        "inwoners": _fmt_int(region.population),
    }
    for label, value in rows.items():
        print(f"{label:>18}: {value}")


def _fmt_int(value) -> str:
    if value is None or value != value:
        return "niet beschikbaar"
    return f"{int(value):,}".replace(",", ".")


def _cmd_overzicht(args: argparse.Namespace) -> int:
    from westerkwartier.sources import data, geo, regions

    registry = regions.load_registry()
    region = registry.resolve(args.gemeente)
    if region.level != "gemeente":
        from westerkwartier.errors import InputError

        raise InputError(f"{region.name} is geen gemeente; geef een gemeente op.")
    print(f"Overzicht {region.name} — Bron: CBS (CC BY 4.0)")
    print()
    _print_region(region)
    names = registry.municipalities().set_index("code")["name"]
    buren = [f"{names.get(c, c)}" for c in geo.neighbours(region.code)]
    print(f"{'buurgemeenten':>18}: {', '.join(buren) or 'geen (geen landgrens)'}")
    prov = data.provenance()
    print()
    count = len(prov["tables"])
    print(f"Offline snapshot: {count} CBS-tabellen, gegevens tot {prov['data_date']}.")
    for tid, t in sorted(prov["tables"].items()):
        periods = f"{t['periods'][0]}–{t['periods'][-1]}" if t["periods"] else "-"
        print(f"  {tid:<9} {periods:<16} {t['title'][:70]}")
    return 0


def _add_indicators(sub) -> None:
    cmd = _command(
        sub,
        "indicators",
        "toon de indicatorcatalogus",
        "Toon alle indicatoren met thema, eenheid, richting, bron-tabellen en of ze offline "
        "beschikbaar zijn. Voorbeeld:\n  westerkwartier indicators --thema Woonklimaat",
    )
    cmd.add_argument("--thema", default=None, help="alleen dit thema (bijv. Talent, Woonklimaat)")
    cmd.add_argument("--uit", type=Path, default=None, help="schrijf de catalogus naar CSV/Excel")
    cmd.set_defaults(func=_cmd_indicators)


def _cmd_indicators(args: argparse.Namespace) -> int:
    from westerkwartier.indicators import catalogue, panel

    frame = catalogue.catalogue(args.thema)  # an unknown theme raises InputError
    # what the snapshot can really give, by the test the panel and the reports use
    status = panel.offline_status([catalogue.load_catalogue()[i] for i in frame["id"]])
    frame["offline"] = [status[i] for i in frame["id"]]
    if args.uit:
        _write_table(frame, args.uit, panel)
        print(f"{len(frame)} indicatoren geschreven naar {args.uit}")
        return 0
    shown = frame.assign(offline=frame["offline"].map({True: "ja", False: "alleen online"}))
    columns = ["id", "theme", "subtheme", "label_nl", "unit", "direction", "offline"]
    print(shown[columns].to_string(index=False))
    return 0


def _add_panel(sub) -> None:
    cmd = _command(
        sub,
        "panel",
        "indicatoren van een gemeente naast haar vergelijkingsregio's",
        "Toon de indicatoren van een gemeente naast Nederland, de provincie, het COROP-gebied "
        "en de buurgemeenten, met jaar en status. Met --uit naar CSV (Nederlandse notatie) of "
        "Excel (.xlsx). Voorbeeld:\n  westerkwartier panel --gemeente Westerkwartier "
        "--jaar 2023 --uit westerkwartier.xlsx",
    )
    cmd.add_argument("--gemeente", default="GM1969", help="naam of CBS-code (standaard GM1969)")
    cmd.add_argument("--jaar", type=_year, default=None, help="peiljaar (standaard: laatste)")
    cmd.add_argument("--thema", default=None, help="alleen indicatoren van dit thema")
    cmd.add_argument("--uit", type=Path, default=None, help="schrijf naar .csv of .xlsx")
    cmd.set_defaults(func=_cmd_panel)


def _nonempty(text: str) -> str:
    """Refuse an empty option value (an unset shell variable: ``--provincie "$PROV"``)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(
            "de waarde is leeg; geef een naam of pad (een lege shellvariabele?)"
        )
    return text


def _nonempty_path(text: str) -> Path:
    """Return a path that is not empty (``--manifest ""`` would mean the current folder)."""
    return Path(_nonempty(text))


def _positive_int(text: str) -> int:
    """Return a whole number above 0 (workers, draws)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is geen geheel getal groter dan 0, bijv. 2")
    return value


def _seconds(text: str) -> float:
    """Return a finite number of seconds above 0 (time limits)."""
    import math

    try:
        value = float(text.replace(",", "."))
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(
            f"{text!r} is geen aantal seconden groter dan 0, bijv. 1800"
        )
    return value


def _year(text: str) -> int:
    """Parse a year argument (argparse turns the ValueError into exit code 2)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is geen jaartal, bijvoorbeeld 2023") from None


def _cmd_panel(args: argparse.Namespace) -> int:
    from westerkwartier.indicators import catalogue, panel
    from westerkwartier.sources import periods, regions

    region = regions.load_registry().resolve(args.gemeente)
    if args.jaar is not None:
        periods.check_year(args.jaar)
    ids = None
    if args.thema:
        ids = list(catalogue.catalogue(args.thema)["id"])
    frame = panel.compare(region.code, args.jaar, indicators=ids)
    if args.uit:
        _write_table(frame, args.uit, panel)
        print(f"{len(frame)} indicatoren voor {region.name} geschreven naar {args.uit}")
        return 0
    print(f"{region.name} ({region.code}) naast vergelijkingsregio's — Bron: CBS")
    print(_readable_comparison(frame).to_string(index=False))
    return 0


#: Units shown without decimals.
_WHOLE_UNITS = {"euro", "personen", "aantal", "inwoners", "woningen"}

#: Suffix that keeps a region's column apart from a namesake (province and city Groningen).
_LEVEL_SUFFIX = {"provincie": " (provincie)", "corop": " (COROP)"}


def _readable_comparison(frame):
    """Format a :func:`panel.compare` frame for the terminal: Dutch numbers, clear headers."""
    import pandas as pd

    from westerkwartier.reporting import formatting

    regions = frame.attrs.get("regions", [])
    first = frame.shape[1] - len(regions)  # the region columns come last, in this order
    out = pd.DataFrame({"indicator": frame["label_nl"], "jaar": frame["year"]})
    for i, region in enumerate(regions):
        header = region["name"] + _LEVEL_SUFFIX.get(region["level"], "")
        out[header] = [
            formatting.fmt_value(value, unit, decimals=0 if unit in _WHOLE_UNITS else 1)
            for value, unit in zip(frame.iloc[:, first + i], frame["unit"], strict=True)
        ]
    out["toelichting"] = [t if isinstance(t, str) else "" for t in frame["toelichting"]]
    return out


def _write_table(frame, path: Path, panel_module) -> None:
    with _writing(path):
        if path.suffix.lower() in {".xlsx", ".xls"}:
            panel_module.to_excel(frame, path)
        else:
            panel_module.to_csv(frame, path)


@contextlib.contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Turn an operating-system error while writing ``path`` into ``OutputNotWritable``.

    A full disk, a folder without write permission, a file where a folder must be: each gets
    exit code 3 and a Dutch message with the fix, never "meld dit als issue". A partly
    written file is removed.
    """
    from westerkwartier.errors import OutputNotWritable

    existed = Path(path).exists()
    try:
        yield
    except OSError as err:
        if not existed:
            with contextlib.suppress(OSError):
                Path(path).unlink()
        raise OutputNotWritable(path, err) from err


#: Every subcommand adds itself to the parser through one of these functions. A new
#: subcommand is an ``_add_<name>(sub)`` function plus a ``_cmd_<name>(args) -> int`` that calls
#: the package; add the function to this list.
SUBCOMMANDS: list[Callable[[Any], None]] = [
    _add_fetch,
    _add_snapshot,
    _add_regions,
    _add_overzicht,
    _add_indicators,
    _add_panel,
]


def _add_wijken(sub) -> None:
    cmd = _command(
        sub,
        "wijken",
        "cijfers per wijk van een gemeente (2020 en 2024, met kaartvormen)",
        "Toon de wijken van een gemeente: inwoners, leeftijdsgroepen, huishoudens en de "
        "verandering sinds 2020 (Kerncijfers wijken en buurten van CBS). Met --uit naar CSV "
        "(Nederlandse notatie), Excel (.xlsx) of GeoJSON (.geojson, één object per wijk, WGS84). "
        "Voorbeelden:\n  westerkwartier wijken --gemeente Westerkwartier\n"
        "  westerkwartier wijken --gemeente Groningen --jaar 2020 --uit groningen.geojson",
    )
    cmd.add_argument("--gemeente", default="GM1969", help="naam of CBS-code (standaard GM1969)")
    cmd.add_argument(
        "--jaar", type=_year, default=2024, help="2024 (standaard, met verandering) of 2020"
    )
    cmd.add_argument("--uit", type=Path, default=None, help="schrijf naar .csv, .xlsx of .geojson")
    cmd.set_defaults(func=_cmd_wijken)


def _cmd_wijken(args: argparse.Namespace) -> int:
    from westerkwartier.errors import InputError
    from westerkwartier.indicators import wijken
    from westerkwartier.reporting import formatting

    if args.uit is not None and args.uit.suffix.lower() not in (".csv", ".xlsx", ".geojson"):
        raise InputError(
            f"Onbekend bestandstype {args.uit.suffix or '(geen)'} voor --uit {args.uit.name}: "
            "kies .csv, .xlsx of .geojson."
        )
    frame = wijken.wijken(args.gemeente, args.jaar)
    name = frame.attrs["gemeentenaam"]
    n = frame["code"].nunique()
    if args.uit:
        with _writing(args.uit):
            wijken.write(frame, args.uit)
        shapeless = frame.loc[frame.geometry.isna(), "code"].nunique()
        extra = ""
        if shapeless and args.uit.suffix.lower() == ".geojson":
            extra = (
                f" ({shapeless} zonder kaartvorm: geen wijkgrens van 2024 met dezelfde oppervlakte)"
            )
        print(f"{n} wijken van {name} ({args.jaar}) geschreven naar {args.uit}{extra}")
        return 0
    wide = wijken.to_wide(frame)
    columns = {"name": "wijk", f"inwoners_{args.jaar}": f"inwoners {args.jaar}"}
    if args.jaar == wijken.TO_YEAR:
        change = wijken.CHANGE_PERIOD
        columns |= {
            f"verandering_25_44_{change}": "25-44 jaar sinds 2020",
            f"verandering_15_24_{change}": "15-24 jaar sinds 2020",
        }
    columns[f"aandeel_25_44_{args.jaar}"] = "aandeel 25-44"
    shown = wide[[c for c in columns if c in wide]].rename(columns=columns)
    for column in shown.columns[1:]:
        pct = column.startswith("aandeel")
        shown[column] = [
            formatting.fmt_pct(v) if pct else formatting.fmt_int(v) for v in shown[column]
        ]
    if "opmerking" in wide:
        shown["opmerking"] = wide["opmerking"].fillna("")
    print(f"{name}: {n} wijken, {args.jaar} — {frame.attrs['bron']}")
    print(shown.to_string(index=False))
    return 0


SUBCOMMANDS.append(_add_wijken)


def _batch_arguments(cmd: argparse.ArgumentParser) -> None:
    """Add the batch options to a subcommand (``batch``; also usable by ``report``)."""
    cmd.add_argument(
        "--manifest",
        type=_nonempty_path,
        default=None,
        help="batchmanifest (standaard: reports.toml van het project; een reports.toml in de "
        "huidige map wordt alleen gelezen als u hem hier noemt)",
    )
    kies = cmd.add_mutually_exclusive_group()
    kies.add_argument(
        "--provincie", type=_nonempty, default=None, help="alle gemeenten van deze provincie"
    )
    kies.add_argument("--alle-gemeenten", action="store_true", help="alle gemeenten van NL")
    kies.add_argument(
        "--gemeente",
        type=_nonempty,
        action="append",
        default=None,
        help="naam of CBS-code (herhaalbaar)",
    )
    cmd.add_argument(
        "--rapport",
        type=_nonempty,
        action="append",
        default=None,
        help="alleen dit rapport (herhaalbaar)",
    )
    cmd.add_argument("--workers", type=_positive_int, default=None, help="aantal werkprocessen")
    cmd.add_argument(
        "--dask",
        metavar="ADRES",
        type=_nonempty,
        default=None,
        help="maak de rapporten op een Dask-cluster (adres van de scheduler, bijvoorbeeld "
        "tcp://scheduler:8786) in plaats van met lokale werkprocessen; vraagt de extra 'dask'",
    )
    cmd.add_argument("--force", action="store_true", help="maak ook ongewijzigde rapporten")
    cmd.add_argument(
        "--gepland",
        action="store_true",
        help="geplande run: vernieuw eerst de CBS-cache; CBS onbereikbaar: door met cache of "
        "snapshot, met een melding in elk rapport",
    )
    cmd.add_argument("--uit", type=_nonempty_path, default=None, help="map voor de runs (reports)")
    cmd.add_argument(
        "--tijdslimiet-rapport", type=_seconds, default=None, help="seconden per rapport"
    )
    cmd.add_argument("--tijdslimiet-run", type=_seconds, default=None, help="seconden per run")
    cmd.add_argument(
        "--publiceren",
        choices=["per-rapport", "alles-of-niets"],
        default=None,
        help="wanneer 'latest' verschuift (standaard per-rapport)",
    )
    cmd.add_argument(
        "--voortgang",
        choices=["auto", "balk", "regels", "uit"],
        default="auto",
        help="voortgangsbalk, logregels of niets (auto: balk op een terminal)",
    )
    cmd.add_argument(
        "--controleer",
        action="store_true",
        help="controleer alles wat de run zou weigeren (manifest, waarden, uitvoermap, "
        "snapshot); maak niets",
    )
    cmd.add_argument(
        "--eigen-notebooks",
        action="store_true",
        help="sta notebooks buiten de map notebooks/ van het project toe (een notebook is een "
        "programma: alleen voor notebooks die u vertrouwt)",
    )
    cmd.add_argument("--json", action="store_true", help="druk de samenvatting af als JSON")


def _add_batch(sub) -> None:
    cmd = _command(
        sub,
        "batch",
        "maak alle rapporten uit een manifest (voor cron, systemd of CI)",
        "Maak alle rapporten uit een batchmanifest (reports.toml) voor alle gemeenten erin, "
        "parallel, in een nieuwe map reports/<datum>/. 'reports/latest' wijst naar de "
        "nieuwste geslaagde run; een mislukt rapport vervangt nooit de laatste goede versie. "
        "Ongewijzigde rapporten worden hergebruikt (--force maakt alles opnieuw). Een tweede "
        "batch in dezelfde map wacht tot de eerste klaar is. Exitcode 7 "
        "als een rapport mislukte; de samenvatting (samenvatting.json) zegt welk en waarom. "
        "SIGTERM, Ctrl-C of SIGHUP stopt de run binnen enkele seconden; wat klaar was blijft "
        "bewaard (exitcode 128 + signaal: 143, 130, 129). Oude runs: `westerkwartier "
        "opruimen`. Voorbeeld:\n"
        "  westerkwartier batch --manifest reports.toml --gepland --workers 2",
    )
    _batch_arguments(cmd)
    cmd.set_defaults(func=_cmd_batch)


class _RunSettings(TypedDict):
    """The run settings ``batch`` passes on; None keeps the manifest's or the default."""

    out_dir: Path | None
    workers: int | None
    report_timeout: float | None
    run_timeout: float | None
    policy: str | None
    dask: str | None


def _manifest_path(given: Path | None) -> Path | None:
    """Return the manifest to read: the one named, else the project's own ``reports.toml``.

    A ``reports.toml`` in the working folder is never read unless it is named: a manifest
    decides which notebooks run.
    """
    if given is not None:
        return given
    own = settings.project_dir / "reports.toml"
    here = Path("reports.toml")
    if here.is_file() and (not own.is_file() or here.resolve() != own.resolve()):
        print(
            "Let op: reports.toml in de huidige map wordt niet gelezen zonder --manifest; "
            f"{'het manifest van het project' if own.is_file() else 'het standaardmanifest'} "
            "wordt gebruikt. Bedoelt u dat bestand, geef dan --manifest reports.toml.",
            file=sys.stderr,
        )
    return own if own.is_file() else None


def _cmd_batch(args: argparse.Namespace) -> int:
    """Run a batch from parsed arguments; also callable from ``report --manifest``.

    Reads the attributes added by :func:`_batch_arguments` with ``getattr`` defaults, so a
    namespace with only some of them (e.g. ``manifest``, ``uit``, ``gemeente``) works.
    """
    import dataclasses
    import json

    from westerkwartier.pipeline import batch
    from westerkwartier.pipeline import manifest as batch_manifest

    allow = bool(getattr(args, "eigen_notebooks", False))
    manifest_path = _manifest_path(getattr(args, "manifest", None))
    manifest = (
        batch_manifest.load_manifest(manifest_path, allow_outside_notebooks=allow)
        if manifest_path
        else batch_manifest.default_manifest()
    )
    if (
        getattr(args, "alle_gemeenten", False)
        or getattr(args, "provincie", None)
        or (getattr(args, "gemeente", None))
    ):
        from westerkwartier.sources import regions

        registry = regions.load_registry()
        names: dict[str, str] = dict(manifest.names)
        gemeenten = getattr(args, "gemeente", None)
        codes = batch_manifest.select_municipalities(
            registry,
            gemeenten=[gemeenten] if isinstance(gemeenten, str) else gemeenten,
            provincie=getattr(args, "provincie", None),
            alle_gemeenten=bool(getattr(args, "alle_gemeenten", False)),
            names=names,
        )
        manifest = dataclasses.replace(manifest.with_selection(codes), names=names)
    rapporten = getattr(args, "rapport", None)
    if rapporten and rapporten != ["alle"]:
        manifest = manifest.only([rapporten] if isinstance(rapporten, str) else rapporten)
    settings_given: _RunSettings = {
        "out_dir": getattr(args, "uit", None),
        "workers": getattr(args, "workers", None),
        "report_timeout": getattr(args, "tijdslimiet_rapport", None),
        "run_timeout": getattr(args, "tijdslimiet_run", None),
        "policy": getattr(args, "publiceren", None),
        "dask": getattr(args, "dask", None),
    }
    if getattr(args, "controleer", False):
        options = batch.check_run(manifest, **settings_given)
        jobs = manifest.jobs()
        print(
            f"Manifest in orde: {len(manifest.reports)} rapport(en), "
            f"{len({c for _, c in jobs})} gemeente(n), {len(jobs)} rapporten in totaal; "
            f"uitvoer naar {options.out_dir}, "
            + (f"Dask-cluster {options.dask}" if options.dask else f"{options.workers} werker(s)")
            + ". Parameters, "
            "uitvoermap en snapshot gecontroleerd; er is niets gemaakt."
        )
        return 0
    summary = batch.run_batch(
        manifest,
        force=bool(getattr(args, "force", False)),
        scheduled=bool(getattr(args, "gepland", False)),
        progress=getattr(args, "voortgang", "auto"),
        **settings_given,
    )
    if getattr(args, "json", False):
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        out = Path(settings_given["out_dir"] or manifest.out_dir)
        print(batch.describe(summary, out))
    return batch.exit_code(summary)


SUBCOMMANDS.append(_add_batch)


def _add_index(sub) -> None:
    cmd = _command(
        sub,
        "index",
        "talent- en aantrekkelijkheidsindex met rangonzekerheid",
        "Toon de score, de mediane rang en het 5-95%-ranginterval (Monte Carlo over gewichten, "
        "normalisatie en aggregatie) van een gemeente, en hoe robuust zij beter of slechter "
        "scoort dan provincie en Nederland. Voorbeeld:\n"
        "  westerkwartier index --gemeente Westerkwartier --index talent",
    )
    cmd.add_argument("--gemeente", default="GM1969", help="naam of CBS-code (standaard GM1969)")
    cmd.add_argument("--index", default=None, help="talent of aantrekkelijkheid (standaard: beide)")
    cmd.add_argument("--jaar", type=_year, default=None, help="jaar (standaard: laatst gedekte)")
    cmd.add_argument(
        "--trekkingen", type=_positive_int, default=None, help="aantal Monte-Carlotrekkingen"
    )
    cmd.set_defaults(func=_cmd_index)


def _cmd_index(args: argparse.Namespace) -> int:
    from westerkwartier.analysis import composite
    from westerkwartier.sources import periods, regions

    region = regions.load_registry().resolve(args.gemeente)
    if region.level != "gemeente":
        from westerkwartier.errors import InputError

        raise InputError(
            f"{region.name} is een {region.level}, geen gemeente: de indices rangschikken "
            "gemeenten. Geef een gemeente; haar uitkomst wordt vergeleken met haar provincie "
            "en met Nederland (bijv. westerkwartier index --gemeente Westerkwartier)."
        )
    if args.jaar is not None:
        periods.check_year(args.jaar)
    chosen = [args.index] if args.index else list(composite.load_indices())
    for index in chosen:
        spec = composite.get_index(index)
        year = args.jaar or composite.latest_year(spec)
        nominal = composite.scores(spec, [year]).set_index("region_code")
        mc = composite.monte_carlo(spec, year, draws=args.trekkingen)
        print(f"{spec.label} {year} — {region.name} (Bron: CBS, CC BY 4.0)")
        if region.code not in set(mc.codes):
            reason = nominal["reason"].get(region.code)
            if not isinstance(reason, str) or not reason.strip():  # NaN, None, empty
                reason = "te weinig gegevens voor deze gemeente in dit jaar"
            print(f"  geen score: {reason}")
            continue
        row = mc.summary().set_index("region_code").loc[region.code]
        score = nominal.loc[region.code, "score"]
        print(f"  score ({spec.normalisation}, {spec.aggregation}): {score:.3f}".replace(".", ","))
        print(
            f"  rang: {row['nominal_rank']:.0f} van {len(mc.codes)}; mediaan over {mc.draws} "
            f"varianten {row['median_rank']:.0f}, 5-95%: {row['rank_p05']:.0f}-"
            f"{row['rank_p95']:.0f}"
        )
        for bench in ("provincie", "nederland"):
            try:
                print("  " + composite.robustness(spec, region.code, bench, result=mc).sentence)
            except WesterkwartierError as err:
                print(f"  ({err})")
    return 0


def _add_ambities(sub) -> None:
    cmd = _command(
        sub,
        "ambities",
        "stand van zaken van de ambities van de partners",
        "Controleer een ambitiebestand (TOML) en toon per doel de huidige waarde, de trend, "
        "de projectie met 90%-band en of het doel op koers ligt. Voorbeeld:\n"
        "  westerkwartier ambities --bestand ambities/westerkwartier.toml",
    )
    cmd.add_argument("--bestand", type=Path, required=True, help="ambitiebestand (TOML)")
    cmd.add_argument("--gemeente", default=None, help="naam of CBS-code (standaard: uit bestand)")
    cmd.add_argument("--peiljaar", type=int, default=None, help="jaar 'nu' (standaard: dit jaar)")
    cmd.set_defaults(func=_cmd_ambities)


def _cmd_ambities(args: argparse.Namespace) -> int:
    from westerkwartier.analysis import ambitions

    out = ambitions.pulse(args.gemeente, args.bestand, peiljaar=args.peiljaar)
    cols = ["indicator", "huidig_jaar", "huidige_waarde", "doel", "doeljaar", "projectie",
            "projectie_onder", "projectie_boven", "status"]  # fmt: skip
    print(f"Ambities {out.attrs['gemeente']} (Bron: CBS, CC BY 4.0)")
    print(out[cols].round(2).to_string(index=False, na_rep="-"))
    return 0


SUBCOMMANDS.extend([_add_index, _add_ambities])


def _add_opruimen(sub) -> None:
    cmd = _command(
        sub,
        "opruimen",
        "verwijder oude batchruns (nooit een die nog nodig is)",
        "Verwijder oude runs (UIT/<datum>/) van `westerkwartier batch`, met hun mislukte "
        "notebooks. Nooit verwijderd: de run waar 'latest' naar wijst, elke run met de "
        "nieuwste versie van een rapport (ook een rapport dat daarna mislukte), de nieuwste "
        "--bewaar runs en runs jonger dan --dagen dagen. Wacht niet op een batch die in "
        "dezelfde map schrijft, tenzij --wacht. Voorbeeld (elke ochtend vóór de batch):\n"
        "  westerkwartier opruimen --manifest reports.toml --bewaar 30",
    )
    cmd.add_argument(
        "--uit",
        type=_nonempty_path,
        default=None,
        help="map van de runs (standaard: [run] uit van --manifest, anders reports)",
    )
    cmd.add_argument(
        "--manifest",
        type=_nonempty_path,
        default=None,
        help="neem de map van de runs uit dit batchmanifest",
    )
    cmd.add_argument("--bewaar", type=_positive_int, default=None, help="bewaar de nieuwste N runs")
    cmd.add_argument("--dagen", type=_days, default=None, help="bewaar runs jonger dan D dagen")
    cmd.add_argument("--droog", action="store_true", help="laat alleen zien wat er weg zou gaan")
    cmd.add_argument(
        "--wacht",
        type=_seconds,
        default=None,
        help="seconden wachten als een batch in de map schrijft (standaard: niet wachten)",
    )
    cmd.set_defaults(func=_cmd_opruimen)


def _days(text: str) -> float:
    """Return a number of days of 0 or more."""
    import math

    try:
        value = float(text.replace(",", "."))
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"{text!r} is geen aantal dagen (0 of meer), bijv. 90")
    return value


def _cmd_opruimen(args: argparse.Namespace) -> int:
    from westerkwartier.pipeline import retention

    out = args.uit
    if out is None and args.manifest is not None:
        from westerkwartier.pipeline import manifest as batch_manifest

        out = batch_manifest.load_manifest(
            args.manifest, check_notebooks=False, allow_outside_notebooks=True
        ).out_dir
    out = out or Path("reports")
    result = retention.clean_runs(
        out, keep=args.bewaar, days=args.dagen, dry_run=args.droog, wait=args.wacht or 0.0
    )
    print(retention.describe(result, out))
    return 0


SUBCOMMANDS.append(_add_opruimen)


class UsageError(WesterkwartierError):
    """Options that do not go together, or that the chosen form of a command would ignore."""

    exit_code = 2


def _add_report(sub) -> None:
    rep = _command(
        sub,
        "report",
        "maak de HTML-rapporten van een gemeente en de indexpagina",
        "Maak de Nederlandstalige HTML-rapporten (aantrekkelijkheid, talent) van een gemeente "
        "in UIT/<gemeente>/<rapport>.html en werk UIT/index.html bij. Alle invoer wordt eerst "
        "gecontroleerd; een mislukt rapport komt in UIT/_failed en wordt niet gepubliceerd. "
        "SIGTERM, Ctrl-C of SIGHUP stopt binnen enkele seconden; klare rapporten blijven "
        "staan. Voorbeeld:\n"
        "  westerkwartier --offline report --gemeente Westerkwartier --rapport alle",
    )
    rep.add_argument(
        "--gemeente", type=_nonempty, default=None, help="naam of CBS-code (standaard GM1969)"
    )
    rep.add_argument(
        "--jaar", default=None, help="peiljaar; 0 (standaard) = per cijfer het laatste jaar"
    )
    rep.add_argument(  # no argparse choices: an unknown name is invalid input (exit 3)
        "--rapport",
        type=_nonempty,
        default=None,
        metavar="{aantrekkelijkheid,talent,alle}",
        help="welk rapport (standaard alle)",
    )
    rep.add_argument(
        "--vergelijk",
        nargs="+",
        type=_nonempty,
        default=None,
        metavar="GEMEENTE",
        help="extra gemeenten",
    )
    rep.add_argument(
        "--peildatum", default=None, help="datum op het rapport, JJJJ-MM-DD (standaard vandaag)"
    )
    rep.add_argument("--uit", type=_nonempty_path, default=None, help="doelmap (reports/)")
    rep.add_argument(
        "--gegevensmelding", default=None, help="melding bovenaan elk rapport (geplande runs)"
    )
    rep.add_argument(
        "--ambities",
        type=_nonempty_path,
        default=None,
        metavar="BESTAND",
        help="ambitiebestand van de partners (TOML); alleen dan krijgt het rapport een deel "
        "Ambities (voorbeeld: ambities/westerkwartier.toml)",
    )
    rep.add_argument(
        "--pdf",
        action="store_true",
        default=None,
        help="maak van elk rapport ook een PDF (A4) met Chromium; zonder Chromium "
        f"exitcode {PdfUnavailable.exit_code} en een melding hoe het te installeren",
    )
    many = rep.add_argument_group(
        "veel rapporten tegelijk (dezelfde run als `westerkwartier batch`)",
        "Met een van deze opties wordt het een batchrun naar UIT/<datum>/ met UIT/latest; "
        "zie `westerkwartier batch --help`. --jaar, --vergelijk, --peildatum, "
        "--gegevensmelding en --ambities gelden dan niet (zet ze in [parameters] van het "
        "manifest).",
    )
    many.add_argument(
        "--manifest", type=_nonempty_path, default=None, help="batchmanifest (reports.toml)"
    )
    many.add_argument(
        "--provincie", type=_nonempty, default=None, help="alle gemeenten van deze provincie"
    )
    many.add_argument("--alle-gemeenten", action="store_true", help="alle gemeenten van NL")
    many.add_argument("--workers", type=_positive_int, default=None, help="aantal werkprocessen")
    many.add_argument("--force", action="store_true", help="maak ook ongewijzigde rapporten")
    many.add_argument(
        "--gepland", action="store_true", help="vernieuw eerst de CBS-cache (geplande run)"
    )
    many.add_argument(
        "--controleer", action="store_true", help="controleer alleen; maak niets (batch)"
    )
    many.add_argument(
        "--eigen-notebooks",
        action="store_true",
        help="sta notebooks buiten notebooks/ toe (zie `westerkwartier batch --help`)",
    )
    rep.set_defaults(func=_cmd_report)


#: Options of ``report`` for one municipality that a batch would not use.
_SINGLE_ONLY = ("jaar", "vergelijk", "peildatum", "gegevensmelding", "ambities", "pdf")

#: Options of ``report`` that only a batch uses.
_BATCH_ONLY = ("workers", "force", "gepland", "controleer", "eigen_notebooks")


def _given(args: argparse.Namespace, names: Sequence[str]) -> list[str]:
    """Return the options among ``names`` that were given (as ``--naam``)."""
    return [f"--{n.replace('_', '-')}" for n in names if getattr(args, n) not in (None, False)]


def _cmd_report(args: argparse.Namespace) -> int:
    batch_mode = bool(args.manifest or args.provincie or args.alle_gemeenten)
    if batch_mode:
        extra = _given(args, _SINGLE_ONLY)
        if args.gemeente is not None and (args.provincie or args.alle_gemeenten):
            extra.append("--gemeente")
        if extra:
            raise UsageError(
                f"{', '.join(extra)} geldt niet voor een batch (met --manifest, --provincie "
                "of --alle-gemeenten) en zou genegeerd worden. Zet jaar, vergelijk en "
                "peildatum in [parameters] van het manifest, kies gemeenten met --gemeente "
                "(zonder --provincie of --alle-gemeenten), of maak het rapport van één "
                "gemeente zonder de batchopties."
            )
        return _cmd_batch(_as_batch(args))
    extra = _given(args, _BATCH_ONLY)
    if extra:
        raise UsageError(
            f"{', '.join(extra)} geldt alleen voor een batch (met --manifest, --provincie of "
            "--alle-gemeenten) en zou hier genegeerd worden. Laat het weg, of gebruik "
            "`westerkwartier batch`."
        )
    from westerkwartier.pipeline.render import render_reports

    chromium = None
    if args.pdf:  # before any report: no Chromium means no waiting for a PDF that cannot come
        from westerkwartier.pipeline.pdf import find_chromium

        chromium = find_chromium()
    uit = args.uit or Path("reports")
    paths = render_reports(
        gemeente=args.gemeente or "GM1969",
        jaar=args.jaar if args.jaar is not None else "0",
        rapport=args.rapport or "alle",
        vergelijk=args.vergelijk or [],
        peildatum=args.peildatum,
        uit=uit,
        gegevensmelding=args.gegevensmelding or "",
        ambities=args.ambities,
    )
    for path in paths:
        print(f"Rapport geschreven: {path} ({path.stat().st_size / 1e3:.0f} kB)")
        sheet = path.parent / f"{path.parent.name}-{path.stem}-cijfers.xlsx"
        if sheet.exists():
            print(f"Cijfers geschreven: {sheet}")
    if chromium is not None:
        from westerkwartier.pipeline.pdf import write_pdfs

        for pdf in write_pdfs(paths, chromium):
            print(f"PDF geschreven: {pdf} ({pdf.stat().st_size / 1e3:.0f} kB)")
    print(f"Index bijgewerkt: {Path(uit) / 'index.html'}")
    return 0


def _as_batch(args: argparse.Namespace) -> argparse.Namespace:
    """Turn ``report --manifest/--provincie/--alle-gemeenten`` into the batch command's arguments.

    ``--gemeente`` narrows a manifest; ``--rapport alle`` means every report of it.
    """
    return argparse.Namespace(
        manifest=args.manifest,
        provincie=args.provincie,
        alle_gemeenten=args.alle_gemeenten,
        gemeente=[args.gemeente] if args.gemeente else None,
        rapport=None if args.rapport in (None, "alle") else [args.rapport],
        workers=args.workers,
        force=args.force,
        gepland=args.gepland,
        uit=args.uit,
        controleer=args.controleer,
        eigen_notebooks=args.eigen_notebooks,
    )


SUBCOMMANDS.append(_add_report)


def _ignore_stop_signals() -> None:
    """Ignore further stop signals: the run has stopped and the process is about to exit."""
    import signal

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError, OSError):  # not the main thread
            signal.signal(sig, signal.SIG_IGN)


def _on_stop_signal(signum: int, frame: Any) -> None:
    """Stop signals outside a run: Ctrl-C interrupts, SIGTERM/SIGHUP end the command.

    Once a run has been stopped, a further signal (a second Ctrl-C while the process reports
    and exits) is ignored, so the account of what was kept is always printed.
    """
    import signal

    from westerkwartier.pipeline.processes import stop_seen

    if stop_seen():
        return
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def _stop_signal_handlers() -> Iterator[None]:
    """Install :func:`_on_stop_signal` for the command; restore the old handlers afterwards.

    After a stopped run the handlers stay: the process is about to exit, and a late second
    Ctrl-C must not turn into a traceback.
    """
    import signal
    import threading

    from westerkwartier.pipeline.processes import stop_seen

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {sig: signal.getsignal(sig) for sig in signals}
    for sig in signals:
        if previous[sig] != signal.SIG_IGN:  # started with Ctrl-C ignored: keep it so
            signal.signal(sig, _on_stop_signal)
    try:
        yield
    finally:
        if not stop_seen():
            for sig, old in previous.items():
                signal.signal(sig, old if old is not None else signal.SIG_DFL)


def _show_notice(message, category, filename, lineno, file=None, line=None) -> None:
    """Print a warning as one Dutch line (``Let op: ...``), without file and line."""
    print(f"Let op: {message}", file=sys.stderr if file is None else file)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if args.offline:
        settings.offline = True
    func: Callable[[argparse.Namespace], int] = args.func
    from westerkwartier.pipeline.processes import RunStopped

    try:
        with warnings.catch_warnings(), _stop_signal_handlers():
            warnings.showwarning = _show_notice
            return func(args)
    except RunStopped as err:  # a stop signal: no error, an account of what was kept
        _ignore_stop_signals()  # a second Ctrl-C while the process exits changes nothing
        print(str(err), file=sys.stderr)
        return err.exit_code
    except WesterkwartierError as err:
        if args.debug:
            raise
        print(f"Fout: {err}", file=sys.stderr)
        return err.exit_code
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        _ignore_stop_signals()
        print("Afgebroken.", file=sys.stderr)
        return 130
    except Exception as err:  # a bug: a short message, the traceback only with --debug
        if args.debug:
            raise
        print(
            f"Onverwachte fout: {type(err).__name__}: {err}\nDit is een fout in westerkwartier; "
            "meld hem als issue met de uitvoer van dezelfde opdracht met --debug.",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
