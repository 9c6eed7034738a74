"""The pure figure builders (dashboard/figures.py) on small hand-made frames."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures import (
    make_channel_figure,
    make_choropleth_figure,
    make_index766_figure,
    make_indicator_figure,
    make_ranking_figure,
    make_sparkline_figure,
    make_sparkline_svg,
    make_trend_figure,
    months_back,
)


def _months(values, start="2025-05-01"):
    starts = pd.date_range(start, periods=len(values), freq="MS")
    return pd.DataFrame({"period_start": starts, "period": [f"{d:%Y-%m}" for d in starts], "value": values})


def _shapes(fig: go.Figure, kind: str | None = None) -> list:
    return [s for s in fig.layout.shapes if kind is None or s.type == kind]


def test_sparkline_has_line_last_point_and_target() -> None:
    fig = make_sparkline_figure(_months([70.0, 71.5, None, 73.0]), target=80, lang="vi")
    line, last = fig.data
    assert list(line.y) == [70.0, 71.5, 73.0]  # N/A months are left out, never drawn as 0
    assert list(last.y) == [73.0]
    assert [s.y0 for s in _shapes(fig)] == [80]
    assert fig.layout.yaxis.range[1] > 80  # the target is inside the view
    assert fig.layout.separators == ",."


def test_sparkline_svg_draws_the_same_line_without_plotly() -> None:
    svg = make_sparkline_svg(_months([70.0, 71.5, None, 73.0]), target=80, width=300, height=56)
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 56"')
    points = re.search(r'<polyline points="([^"]+)"', svg).group(1).split()
    assert len(points) == 3  # the N/A month is left out
    ys = [float(p.split(",")[1]) for p in points]
    assert ys[0] > ys[1] > ys[2]  # rising values go up the picture
    target_y = float(re.search(r'<line x1="0" x2="300" y1="([0-9.]+)"', svg).group(1))
    assert target_y < ys[2]  # the target (80) sits above the last value (73)
    assert "<circle" in svg  # the last point
    empty = make_sparkline_svg(pd.DataFrame(columns=["period_start", "value"]), target=None)
    assert "<polyline" not in empty and empty.endswith("</svg>")


def test_sparkline_without_data_is_empty_but_valid() -> None:
    fig = make_sparkline_figure(pd.DataFrame(columns=["period_start", "value"]), target=None, lang="en")
    assert fig.data == ()


def test_trend_marks_target_two_tier_start_and_baseline() -> None:
    df = _months([90.0, 91.0, 92.5, 93.0, 94.0, 95.5, 96.0, 96.5, 97.0])
    df["series"] = "Phường Cửa Nam"
    df["hover"] = "412 / 530 hồ sơ"
    fig = make_trend_figure(df, "vi", "%", target=100, comparison=">=", baseline=(date(2025, 7, 1), date(2025, 10, 1)))
    assert len(fig.data) == 1 and fig.data[0].name == "Phường Cửa Nam"
    assert "412 / 530 hồ sơ" in fig.data[0].customdata[0]
    assert "90,0 %" in fig.data[0].customdata[0]
    lines = _shapes(fig, "line")
    assert any(s.y0 == 100 and s.y1 == 100 for s in lines)  # target
    assert any(str(s.x0).startswith("2025-07-01") for s in lines)  # two-tier start, 1 July 2025
    assert any(s.type == "rect" for s in fig.layout.shapes)  # baseline band
    texts = [a.text for a in fig.layout.annotations]
    assert "Mục tiêu ≥ 100,0 %" in texts and "Kỳ gốc" in texts
    assert fig.layout.xaxis.tickformat == "%m/%Y"


def test_trend_with_city_series_and_english_words() -> None:
    a = _months([1.0, 2.0]).assign(series="Unit")
    b = _months([1.5, 2.5]).assign(series="City")
    fig = make_trend_figure(pd.concat([a, b]), "en", "dossiers", target=None)
    assert [d.name for d in fig.data] == ["Unit", "City"]
    assert fig.layout.showlegend is True
    assert fig.layout.separators == ".,"


def test_trend_without_values_says_so() -> None:
    fig = make_trend_figure(_months([None, None]).assign(series="x"), "en", "%")
    assert fig.data == ()
    assert fig.layout.annotations[0].text == "No data"


def test_ranking_puts_worst_on_top_and_never_uses_colour_alone() -> None:
    df = pd.DataFrame({"code": ["a", "b", "c", "d"], "name": ["A", "B", "C", "D"],
                       "value": [97.0, 80.0, None, 100.0],
                       "status": ["needs_acceleration", "deteriorating", "no_data", "achieved"]})
    fig = make_ranking_figure(df, "vi", "%", target=100, direction="higher")
    assert list(fig.layout.yaxis.categoryarray) == ["D", "A", "B"]  # bottom to top: B (worst) on top; N/A left out
    names = [t.name for t in fig.data]
    assert names == ["Đã đạt", "Cần đẩy nhanh", "Đang xấu đi"]  # one legend entry per status, with its label
    patterns = {t.name: t.marker.pattern.shape for t in fig.data}
    assert patterns["Đang xấu đi"] == "x" and patterns["Cần đẩy nhanh"] == "/"
    assert {t.marker.pattern.fillmode for t in fig.data} == {"overlay"}  # the pattern over the colour, not instead
    assert [s.x0 for s in _shapes(fig, "line")] == [100]
    assert fig.data[2].customdata[0] == "b"  # clicking a bar knows its unit


def test_ranking_lower_is_better() -> None:
    df = pd.DataFrame({"code": ["a", "b"], "name": ["A", "B"], "value": [3.0, 9.0], "status": [None, None]})
    fig = make_ranking_figure(df, "en", "dossiers", direction="lower")
    assert list(fig.layout.yaxis.categoryarray) == ["A", "B"]  # B (most overdue) on top


def test_choropleth_uses_given_boundaries_without_tiles() -> None:
    geo = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"unit_code": "00073"},
         "geometry": {"type": "Polygon", "coordinates": [[[105.84, 21.02], [105.85, 21.02], [105.85, 21.03],
                                                          [105.84, 21.02]]]}}]}
    df = pd.DataFrame({"code": ["00073"], "name": ["Phường Cửa Nam"], "value": [95.8], "status": ["limited"]})
    fig = make_choropleth_figure(df, geo, "properties.unit_code", "vi", "%")
    trace = fig.data[0]
    assert isinstance(trace, go.Choroplethmap)
    assert list(trace.locations) == ["00073"] and trace.featureidkey == "properties.unit_code"
    assert "Tiến triển hạn chế" in trace.hovertext[0]
    assert fig.layout.map.style == "white-bg"  # no tiles: nothing is fetched from the internet
    assert (fig.layout.map.bounds.west, fig.layout.map.bounds.north) == (105.84, 21.03)


def test_channel_mix_is_a_share_per_series() -> None:
    df = pd.DataFrame({"series": ["U", "U", "City", "City"], "channel": ["online_full", "in_person"] * 2,
                       "label": ["Fully online", "In person"] * 2, "count": [30, 10, 500, 500]})
    fig = make_channel_figure(df, "en")
    full = next(t for t in fig.data if t.name == "Fully online")
    assert list(full.y) == ["City", "U"]
    assert list(full.x) == [50.0, 75.0]
    assert fig.layout.barmode == "stack"


def test_index766_bullets_show_na_not_zero() -> None:
    df = pd.DataFrame({"name": ["1. Publicity", "2. Progress"], "score": [None, 19.49],
                       "points_computable": [0.0, 20.0], "max_points": [18.0, 20.0]})
    fig = make_index766_figure(df, "vi")
    score = fig.data[2]
    assert list(score.text) == ["19,49 / 20", "N/A"]  # reversed: first group at the top


def test_indicator_marks_revisions() -> None:
    df = pd.DataFrame({"period_start": pd.to_datetime(["2025-07-01", "2025-10-01"]), "period": ["2025-Q3", "2025-Q4"],
                       "value": [12.1, 12.9], "revised": [True, False],
                       "first_published": pd.to_datetime(["2025-10-20", "2026-01-20"]),
                       "last_published": pd.to_datetime(["2025-11-03", "2026-01-20"])})
    fig = make_indicator_figure(df, "en", "%", target=14.5, comparison=">=")
    trace = fig.data[0]
    assert list(trace.marker.symbol) == ["diamond", "circle"]
    assert "first published 20/10/2025, revised 03/11/2025" in trace.customdata[0]
    assert "Published 20/01/2026" in trace.customdata[1]


def test_months_back() -> None:
    assert months_back(date(2026, 3, 16), 0) == date(2026, 3, 1)
    assert months_back(date(2026, 3, 16), 3) == date(2025, 12, 1)
    assert months_back(date(2026, 1, 31), 13) == date(2024, 12, 1)
