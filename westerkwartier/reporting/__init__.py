"""Reporting: what a reader sees.

The report catalogue (:mod:`.report_catalogue`), everything one report shows
(:mod:`.report_data`), the findings in Dutch (:mod:`.findings`), numbers in Dutch
(:mod:`.formatting`), charts in the house style (:mod:`.charts`, :mod:`.figures`), the HTML
sections the notebooks call (:mod:`.sections`, :mod:`.index_sections`) and the export of a
notebook to one self-contained page (:mod:`.html`).
"""
