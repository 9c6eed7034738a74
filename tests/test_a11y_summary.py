"""dashboard/a11y.py: a chart's text alternative and data table, from the frame it is drawn from (issue 14)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import a11y


def _trend() -> pd.DataFrame:
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    values = [88.1 + i * (94.3 - 88.1) / 11 for i in range(12)]
    return pd.DataFrame({"series": "Phường Cửa Nam", "period": months, "value": values,
                         "period_start": pd.to_datetime([f"{m}-01" for m in months]), "partial": False})


def test_the_issue_example_in_both_languages() -> None:
    df = _trend()
    vi = a11y.summary(df, "Tỷ lệ đúng hạn", "Phường Cửa Nam", "vi", "%", 100, ">=")
    en = a11y.summary(df, "On-time rate", "Cua Nam Ward", "en", "%", 100, ">=")
    assert vi == "Tỷ lệ đúng hạn, Phường Cửa Nam, 12 tháng: từ 88,1 % lên 94,3 %; mục tiêu ≥ 100,0 %"
    assert en == "On-time rate, Cua Nam Ward, 12 months: up from 88.1% to 94.3%; target ≥ 100.0%"


def test_partial_period_other_series_and_no_data() -> None:
    df = _trend()
    df.loc[11, "partial"] = True
    city = _trend().assign(series="Toàn thành phố", value=90.0)
    text = a11y.summary(pd.concat([df, city], ignore_index=True), "Tỷ lệ đúng hạn", "Phường Cửa Nam", "vi")
    assert "11 tháng" in text and "12/2025 (tạm tính): 94,3 %" in text and text.endswith("Toàn thành phố: 90,0 %")
    empty = df.assign(value=None)
    assert a11y.summary(empty, "On-time rate", "City", "en") == "On-time rate, City: no data yet"


def test_ranking_summary_names_the_lowest_and_highest_and_counts_statuses() -> None:
    df = pd.DataFrame({"name": ["A", "B", "C"], "value": [70.0, 99.0, 85.5],
                       "status": ["deteriorating", "achieved", "deteriorating"]})
    text = a11y.ranking_summary(df, "On-time rate", "November 2026", "en", "%", 100)
    assert text.startswith("On-time rate, November 2026, 3 wards and communes: lowest A (70.0%), highest B (99.0%)")
    assert "target ≥ 100.0%" in text and "Deteriorating: 2" in text
    table = a11y.ranking_table(df, "vi")
    assert table["head"] == ["Đơn vị", "Giá trị", "Trạng thái"] and table["rows"][0][:2] == ["A", "70,0 %"]


def test_label_puts_the_text_and_table_in_the_figure() -> None:
    df = _trend()
    fig = a11y.label(go.Figure(), "x", a11y.trend_table(df, "en"), "en")
    meta = fig.layout.meta["a11y"]
    assert meta["label"] == "x" and meta["table"]["title"] == "Data table"
    assert meta["table"]["head"] == ["Period", "Phường Cửa Nam"] and len(meta["table"]["rows"]) == 12


def test_chart_wrapper_is_an_image_with_a_table() -> None:
    div = a11y.chart("graph", "Tỷ lệ đúng hạn: …", a11y.trend_table(_trend(), "vi"), "vi")
    img, details = div.children
    assert img.role == "img" and getattr(img, "aria-label") == "Tỷ lệ đúng hạn: …"
    assert details.children[0].children == "Bảng số liệu"
