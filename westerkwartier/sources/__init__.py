"""Sources: where the figures come from.

CBS's live OData services (:mod:`.cbs`, :mod:`.odata4`; HTTP, paging and reachability in
:mod:`.transport`, requests sized to a need in :mod:`.need`), the local table cache (:mod:`.cache`,
:mod:`.store`), the committed offline snapshot (:mod:`.snapshot`) built from the CBS mirror's
exports (:mod:`.exports`), and :func:`.data.get_table` that chooses between them. Also the
region registry (:mod:`.regions`) and the boundaries (:mod:`.geo`). Nothing here knows about
indicators or reports.
"""
