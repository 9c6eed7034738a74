"""The status palette (presentation/palette.py) against WCAG 2.1 AA and colour-vision deficiencies (issue 14).

- Marks: every status drawn as a bar, line or badge stripe is at least 3:1 against the white panel and the
  ranking's striped rows (1.4.11); few_data is exempt: it is never drawn as a chart bar (listed apart, its
  value written beside it). Text: the colour used as text (deteriorating, .stat-bad) is at least 4.5:1 (1.4.3).
- The five judged statuses stay apart in normal vision and simulated protanopia, deuteranopia and
  tritanopia (Machado, Oliveira & Fernandes 2009, severity 1, on linear RGB): CIE76 ΔE over 10 for every pair.
- The chart's own colours (series, target, focus ring, page text) meet the same thresholds.
"""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import pytest

from presentation import palette

WHITE, PAGE, STRIPE = "#ffffff", "#f3f5f7", "#fbfcfd"
MACHADO = {
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216),
                   (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413),
                     (-0.011820, 0.042940, 0.968881)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602),
                   (0.004733, 0.691367, 0.303900)),
}
MIN_DELTA_E = 10.0


def linear(colour: str) -> tuple[float, float, float]:
    h = colour.lstrip("#")
    c = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    return tuple(x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4 for x in c)


def luminance(rgb) -> float:
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]


def contrast(a: str, b: str) -> float:
    la, lb = luminance(linear(a)), luminance(linear(b))
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def simulate(rgb, kind: str):
    m = MACHADO[kind]
    return tuple(min(1.0, max(0.0, sum(m[i][j] * rgb[j] for j in range(3)))) for i in range(3))


def lab(rgb) -> tuple[float, float, float]:
    x = (0.4124 * rgb[0] + 0.3576 * rgb[1] + 0.1805 * rgb[2]) / 0.95047
    y = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]
    z = (0.0193 * rgb[0] + 0.1192 * rgb[1] + 0.9505 * rgb[2]) / 1.08883

    def f(t):
        return t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116
    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def delta_e(a, b) -> float:
    return math.dist(lab(a), lab(b))


def test_contrast_helper_matches_known_ratios() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#6c757d", PAGE) == pytest.approx(4.29, abs=0.01)  # the axe finding of issue 14
    assert contrast("#E69F00", WHITE) == pytest.approx(2.25, abs=0.01)


MARKS = [k for k in palette.STATUSES if k != "few_data"]


@pytest.mark.parametrize("status", MARKS)
@pytest.mark.parametrize("background", [WHITE, STRIPE])
def test_status_marks_are_3_to_1_on_their_background(status: str, background: str) -> None:
    colour = palette.PALETTE[status].colour
    assert contrast(colour, background) >= 3.0, f"{status} {colour} on {background}: {contrast(colour, background):.2f}"


@pytest.mark.parametrize("status", palette.JUDGED)
def test_judged_statuses_are_3_to_1_on_the_page_too(status: str) -> None:
    colour = palette.PALETTE[status].colour
    assert contrast(colour, PAGE) >= 3.0, f"{status} {colour}: {contrast(colour, PAGE):.2f}"


@pytest.mark.parametrize("background", [WHITE, PAGE])
def test_status_colour_used_as_text_is_4_5_to_1(background: str) -> None:
    colour = palette.PALETTE["deteriorating"].colour  # .stat-bad
    assert contrast(colour, background) >= 4.5


@pytest.mark.parametrize("vision", ["normal", *MACHADO])
def test_judged_statuses_stay_distinguishable(vision: str) -> None:
    worst = []
    for a, b in itertools.combinations(palette.JUDGED, 2):
        ca, cb = linear(palette.PALETTE[a].colour), linear(palette.PALETTE[b].colour)
        if vision != "normal":
            ca, cb = simulate(ca, vision), simulate(cb, vision)
        worst.append((delta_e(ca, cb), a, b))
    d, a, b = min(worst)
    assert d >= MIN_DELTA_E, f"{vision}: {a} and {b} are ΔE {d:.1f} apart"


def test_statuses_never_rely_on_colour_alone() -> None:
    """Every status has an icon, a PDF symbol and its ASCII stand-in; bar patterns tell most statuses apart."""
    for s in palette.PALETTE.values():
        assert s.icon and s.symbol and s.ascii
    assert len({s.pattern for s in palette.PALETTE.values()}) >= 5


def test_chart_and_page_colours() -> None:
    from dashboard.theme import MUTED, SERIES, TARGET

    assert contrast(SERIES[0], WHITE) >= 3.0 and contrast(SERIES[1], WHITE) >= 3.0  # the focus line and the city
    assert contrast(TARGET, WHITE) >= 3.0
    assert contrast(MUTED, WHITE) >= 4.5  # notes and axis words


def test_the_screen_css_uses_the_palette() -> None:
    """The CSS variables the ranking bars and cards use are the palette's (20_a11y.css overrides 10_r57.css)."""
    assets = Path(__file__).resolve().parents[1] / "dashboard" / "assets"
    css = {}
    for name in sorted(p.name for p in assets.glob("*.css")):
        for key, value in re.findall(r"--st-([a-z_]+):\s*(#[0-9a-fA-F]{6})", (assets / name).read_text()):
            css[key] = value.lower()
    for key, style in palette.PALETTE.items():
        assert css.get(key) == style.colour.lower(), key
    focus = re.search(r":focus-visible \{ outline: 3px solid (#[0-9a-fA-F]{6})", (assets / "20_a11y.css").read_text())
    assert focus and contrast(focus.group(1), WHITE) >= 3.0 and contrast(focus.group(1), PAGE) >= 3.0


def test_every_chart_series_and_channel_colour_is_at_least_3_to_1_on_white():
    """Chart marks outside the status palette too (WCAG 1.4.11): series, channels, the revised marker."""
    from dashboard.figures import CHANNEL_COLORS
    from dashboard.theme import REVISED, SERIES

    for colour in [*SERIES, *CHANNEL_COLORS.values(), REVISED]:
        assert contrast(colour, WHITE) >= 3.0, colour
