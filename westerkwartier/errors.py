"""Exceptions of the westerkwartier package.

Every error an analyst or a scheduled run can meet is one of these classes. Each message says
what failed, why, and what to do. The command line turns them into a short message and the
documented exit code of the class (see ``EXIT_CODES``), without a traceback unless ``--debug``.
"""

from __future__ import annotations

from collections.abc import Sequence

#: Exit codes of the ``westerkwartier`` command, documented in the README and in ``--help``.
EXIT_CODES: dict[int, str] = {
    0: "gelukt",
    1: "onverwachte fout (meld dit als issue, met --debug voor details)",
    2: "verkeerd gebruik van de opdracht (onbekende optie of ontbrekend argument)",
    3: "ongeldige invoer (onbekende gemeente, jaar, bestand met instellingen)",
    4: "gegevens niet beschikbaar (CBS onbereikbaar en niets in cache of snapshot)",
    5: "gegevens beschadigd of in onverwachte vorm (checksum, schema)",
    6: "CBS-tabel bestaat niet",
    7: "rapport niet gemaakt (notebook faalde; zie reports/_failed)",
    8: "PDF niet gemaakt (--pdf zonder Chromium; installeer met scripts/install-browser.sh)",
    129: "gestopt door SIGHUP (terminal gesloten); wat klaar was, is bewaard",
    130: "gestopt door Ctrl-C (SIGINT); wat klaar was, is bewaard",
    143: "gestopt door SIGTERM (timeout, systemctl stop, CI); wat klaar was, is bewaard",
}


class WesterkwartierError(Exception):
    """Base class of all errors raised on purpose by this package."""

    exit_code: int = 1


class InputError(WesterkwartierError, ValueError):
    """Input given by a person (a parameter, a file with settings) is not valid."""

    exit_code = 3


class RegionNotFound(InputError, LookupError):
    """A region typed by a person matches no known region.

    Parameters
    ----------
    query : str
        What was typed.
    suggestions : sequence of str
        Closest known names, best first, shown in the message.
    """

    def __init__(self, query: str, suggestions: Sequence[str] = ()) -> None:
        self.query = query
        self.suggestions = list(suggestions)
        hint = (
            f" Bedoelde u: {', '.join(self.suggestions)}?"
            if self.suggestions
            else " Gebruik `westerkwartier regions` voor de lijst van gemeenten."
        )
        if not str(query).strip():
            super().__init__(
                "Geen gemeente of regio opgegeven; geef een naam of CBS-code, bijvoorbeeld "
                "Westerkwartier of GM1969."
            )
            return
        super().__init__(f"Onbekende gemeente of regio: {query!r}.{hint}")


class RegionDissolved(RegionNotFound):
    """A municipality that no longer exists because it merged into another one."""

    def __init__(self, query: str, name: str, code: str, successor: str, since: int) -> None:
        self.name = name
        self.code = code
        self.successor = successor
        self.since = since
        LookupError.__init__(self)
        self.query = query
        self.suggestions = [successor]
        self.args = (
            f"De gemeente {name} ({code}) bestaat niet meer: zij is op 1 januari {since} "
            f"opgegaan in {successor}. Gebruik {successor}; eerdere jaren worden waar mogelijk "
            "uit de voorgangers opgebouwd.",
        )


class CbsError(WesterkwartierError):
    """Something went wrong while getting data from CBS."""


class CbsUnavailable(CbsError):
    """CBS could not be reached (time-out, connection error, server error) after retries."""

    exit_code = 4


class CbsUnreachable(CbsUnavailable):
    """CBS counts as unreachable (an earlier connection failed); no new attempt was made."""


class CbsRequestTooLarge(CbsError):
    """A request for a CBS table would bring more rows than the configured limit."""

    exit_code = 3


class OfflineDataMissing(CbsUnavailable):
    """Offline mode is on and the requested table is neither in the cache nor in the snapshot."""


class CbsTableNotFound(CbsError, LookupError):
    """CBS does not know the requested table id."""

    exit_code = 6


class CbsSchemaError(CbsError):
    """A CBS table or export does not have the shape the code expects."""

    exit_code = 5


class TopicNotFound(CbsSchemaError, LookupError):
    """No topic (column) of a table matches the requested key stem."""


class AmbiguousTopic(CbsSchemaError, LookupError):
    """A topic key stem matches more than one topic of a table; the full key must be given.

    Parameters
    ----------
    table_id : str
        The table.
    key_stem : str
        The stem asked for (``AfstandTotSchool``).
    candidates : sequence of str
        The full keys that have that stem (``AfstandTotSchool_56``, ``AfstandTotSchool_60``).
    """

    def __init__(self, table_id: str, key_stem: str, candidates: Sequence[str]) -> None:
        self.table_id = table_id
        self.key_stem = key_stem
        self.candidates = list(candidates)
        super().__init__(
            f"Sleutel {key_stem!r} is niet eenduidig in tabel {table_id}: "
            f"{', '.join(self.candidates)}. Geef in config/indicators.toml de volledige "
            f"sleutel met nummer (bijvoorbeeld {self.candidates[0]!r}) en controleer bij het "
            "CBS welke van deze onderwerpen bedoeld is."
        )


class ExportFormatError(CbsSchemaError):
    """A saved CBS export (CSV from cbsodata or StatLine) cannot be read."""


class DataIntegrityError(WesterkwartierError):
    """A stored file (cache entry, snapshot file) does not match its recorded checksum."""

    exit_code = 5


class SnapshotMissing(WesterkwartierError):
    """The offline snapshot (``data/snapshot``) is missing or incomplete."""

    exit_code = 4


class MirrorMissing(InputError):
    """The CBS mirror folder needed to build the snapshot does not exist."""


class ParameterError(InputError):
    """A report parameter is unknown (misspelt) or has a value of the wrong type.

    Parameters
    ----------
    message : str
        What is wrong, with the list of valid parameters.
    name : str, optional
        The parameter concerned.
    valid : sequence of str
        Names the notebook accepts.
    """

    def __init__(self, message: str, *, name: str | None = None, valid: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.name = name
        self.valid = list(valid)


class ReportFailed(WesterkwartierError):
    """A report notebook failed (a cell raised or timed out) or its HTML broke a house rule.

    Nothing was published; the executed notebook was saved aside for inspection.

    Parameters
    ----------
    message : str
        What failed, in which cell, and where the executed notebook is.
    notebook : Path, optional
        The notebook that was run.
    failed_notebook : Path, optional
        Where the executed (failed) notebook was saved.
    cell_index : int, optional
        Index of the failing cell in the executed notebook.
    """

    exit_code = 7

    def __init__(
        self,
        message: str,
        *,
        notebook: object = None,
        failed_notebook: object = None,
        cell_index: int | None = None,
    ) -> None:
        super().__init__(message)
        self.notebook = notebook
        self.failed_notebook = failed_notebook
        self.cell_index = cell_index


class PdfUnavailable(WesterkwartierError):
    """A PDF was asked for (``report --pdf``) but Chromium cannot print it here.

    The message says what is missing and how to install it; the HTML reports are not
    affected.
    """

    exit_code = 8


class OutputNotWritable(InputError):
    """An output folder or file (``--uit``, a report, a batch run) cannot be written.

    Parameters
    ----------
    path : object
        The folder or file that could not be written.
    reason : OSError, optional
        The error of the operating system.
    """

    def __init__(self, path: object, reason: OSError | None = None) -> None:
        import errno

        self.path = path
        self.reason = reason
        code = getattr(reason, "errno", None)
        why = f" ({reason.strerror or type(reason).__name__})" if reason is not None else ""
        fix = (
            "Kies met --uit een map waarin u mag schrijven, of controleer de rechten en de "
            "vrije schijfruimte."
        )
        if code in {errno.ENOSPC, errno.EDQUOT}:
            why = " (de schijf is vol)" if code == errno.ENOSPC else " (schijfquotum bereikt)"
            fix = (
                "Maak ruimte vrij, bijvoorbeeld door oude runs te verwijderen met "
                "`westerkwartier opruimen --bewaar 10`, of kies met --uit een andere schijf."
            )
        elif code == errno.ENOTDIR:
            why = " (een deel van het pad is een bestand, geen map)"
        elif code == errno.EROFS:
            why = " (het bestandssysteem is alleen-lezen)"
        super().__init__(f"Kan niet schrijven naar {path}{why}. {fix}")

    @property
    def disk_full(self) -> bool:
        """Whether the cause is a full disk or an exceeded quota."""
        import errno

        return getattr(self.reason, "errno", None) in {errno.ENOSPC, errno.EDQUOT}
