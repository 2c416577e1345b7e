"""Pipeline: turning notebooks into published reports.

The papermill runner with parameter checks (:mod:`.notebook`), one report as a job, the
machinery both commands share (:mod:`.jobs`), reports on request (:mod:`.render`), the batch
manifest (:mod:`.manifest`), scheduled batch runs (:mod:`.batch`) and the one index writer
(:mod:`.index_page`).

Importing the pipeline keeps jsonschema from compiling its IRI grammars
(:func:`skip_iri_grammars`), about a second of CPU in every process that runs notebooks.
"""

from __future__ import annotations

import sys

#: The optional module that jsonschema imports for its "iri" format checks.
IRI_GRAMMARS = "rfc3987_syntax"


def skip_iri_grammars() -> bool:
    """Keep jsonschema from importing ``rfc3987_syntax`` in this process; tell if it did so.

    nbformat (and so papermill and nbconvert) imports jsonschema, which imports
    ``rfc3987_syntax`` when it is installed (jupyter-events asks for it). That module
    compiles some 40 grammars when it is imported, about 1 s of CPU, only to check the
    formats "iri" and "iri-reference", which no notebook schema uses.
    jsonschema treats the module as optional, so marking it as absent (``None`` in
    ``sys.modules``) makes it skip those two checks and nothing else. Nothing is changed
    when jsonschema or the module has been imported already.

    Returns
    -------
    bool
        True when the module is now marked as absent.
    """
    if "jsonschema" in sys.modules or IRI_GRAMMARS in sys.modules:
        return sys.modules.get(IRI_GRAMMARS, False) is None
    sys.modules[IRI_GRAMMARS] = None  # type: ignore[assignment]
    return True


skip_iri_grammars()
