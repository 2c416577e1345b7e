"""Tests of westerkwartier.ambitions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from westerkwartier.analysis import ambitions as am

GOOD = """\
gemeente = "GM1969"

[[ambitie]]
indicator = "netto_arbeidsparticipatie"
doel = 76.0
doeljaar = 2030
eigenaar = "Gemeente"
"""

BAD = """\
gemeente = "GM1969"

[[ambitie]]
indicator = "netto_arbeidsparticipatie"
doel = 76.0
doeljaar = 2030
eigenaar = "Gemeente"

[[ambitie]]
indicator = "netto_arbeidsparticipate"
doel = "veel"
doeljaar = 2020
eigenaar = "Gemeente"
eigenar = "X"
"""


def write(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "ambities.toml"
    f.write_text(text, encoding="utf-8")
    return f


def test_good_file_is_read(tmp_path):
    top, targets = am.read_ambitions(write(tmp_path, GOOD), peiljaar=2025)
    assert top["gemeente"] == "GM1969"
    assert targets[0].indicator == "netto_arbeidsparticipatie" and targets[0].line == 3


def test_semantic_errors_carry_line_numbers(tmp_path):
    with pytest.raises(am.AmbitionFileError) as info:
        am.read_ambitions(write(tmp_path, BAD), peiljaar=2025)
    problems = dict(info.value.problems)
    assert "onbekende indicator 'netto_arbeidsparticipate'" in problems[10]
    assert "netto_arbeidsparticipatie" in problems[10]  # closest match suggested
    assert "'doel' moet een getal" in problems[11]
    assert "in het verleden" in problems[12]
    assert "onbekende sleutel 'eigenar'" in problems[14] and "eigenaar" in problems[14]
    assert "regel 12:" in str(info.value)


def test_syntax_error_has_line_number(tmp_path):
    with pytest.raises(am.AmbitionFileError) as info:
        am.read_ambitions(write(tmp_path, GOOD + "doel = = 3\n"), peiljaar=2025)
    assert info.value.problems[0][0] == 8


def test_missing_required_key_points_at_the_header(tmp_path):
    text = GOOD.replace('eigenaar = "Gemeente"\n', "")
    with pytest.raises(am.AmbitionFileError) as info:
        am.read_ambitions(write(tmp_path, text), peiljaar=2025)
    assert info.value.problems == [(3, info.value.problems[0][1])]
    assert "'eigenaar'" in info.value.problems[0][1]


def test_linear_projection_exact_line_has_zero_width_interval():
    t = am.linear_projection([2020, 2021, 2022, 2023], [1.0, 2.0, 3.0, 4.0], 2030)
    assert t.slope == pytest.approx(1.0) and t.projection == pytest.approx(11.0)
    assert t.upper - t.lower == pytest.approx(0.0, abs=1e-9)


def test_linear_projection_interval_by_hand():
    # y = 0, 2, 1 at x = 0, 1, 2: b = 0.5, a = 0.5, residuals -0.5, 1, -0.5 -> s = sqrt(1.5)
    t = am.linear_projection([0, 1, 2], [0.0, 2.0, 1.0], 4)
    half = 6.314 * np.sqrt(1.5) * np.sqrt(1 + 1 / 3 + 9 / 2)
    assert t.projection == pytest.approx(2.5)
    assert (t.lower, t.upper) == pytest.approx((2.5 - half, 2.5 + half))


def test_too_few_points_is_unknown():
    t = am.linear_projection([2020, 2022], [1.0, 2.0], 2030)
    assert np.isnan(t.projection)
    assert am.classify(3.0, t.lower, t.upper, 1, 2.0) == "onbekend"


@pytest.mark.parametrize(
    ("target", "better", "expected"),
    [(5.0, 1, "op koers"), (15.0, 1, "niet op koers"), (10.0, 1, "twijfelachtig"),
     (5.0, -1, "niet op koers"), (15.0, -1, "op koers")],
)  # fmt: skip
def test_classification(target, better, expected):
    assert am.classify(target, 8.0, 12.0, better, 9.0) == expected


def test_track_on_toy_series():
    series = pd.DataFrame(
        {"year": [2018, 2019, 2020, 2021, 2022], "value": [60, 61, 62, 63.2, 63.9]}
    )
    up = am.Ambition("netto_arbeidsparticipatie", 66.0, 2026, "x")
    row = am.track(up, series, "higher_is_better")
    assert row["status"] == "op koers" and row["kloof"] == pytest.approx(2.1)
    assert row["basisjaar"] == 2018 and row["basiswaarde"] == 60
    far = am.Ambition("netto_arbeidsparticipatie", 80.0, 2026, "x")
    assert am.track(far, series, "higher_is_better")["status"] == "niet op koers"
    down = am.Ambition("werkloosheid", 50.0, 2026, "x")
    assert am.track(down, series, "lower_is_better")["status"] == "niet op koers"


def test_t_quantile_is_close_to_tables():
    assert am.t_quantile_95(1) == pytest.approx(6.314)
    assert am.t_quantile_95(30) == pytest.approx(1.697, abs=2e-3)
    assert am.t_quantile_95(120) == pytest.approx(1.658, abs=2e-3)


def test_example_file_pulse():
    from westerkwartier import settings

    settings.offline = True
    example = Path(__file__).parents[1] / "ambities" / "westerkwartier.toml"
    _, targets = am.read_ambitions(example, peiljaar=2025)
    assert 6 <= len(targets) <= 8
    out = am.pulse(None, example, peiljaar=2025)  # from the committed snapshot
    assert set(out["status"]) <= set(am.STATUSES)
    assert out["huidige_waarde"].notna().all()
    gez = out.set_index("indicator").loc["ervaren_gezondheid"]
    assert gez["status"] == "onbekend" and "te weinig gegevens" in gez["uitleg"]
