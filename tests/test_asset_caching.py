"""The app's own assets are cached by the browser: fingerprinted ones (Dash's `?m=` file time) for a year and
immutable, the icons the style sheets name for an hour; the page itself, the layout and callbacks are not."""

from __future__ import annotations

import re

from config import load_settings


def test_fingerprinted_assets_for_a_year_icons_for_an_hour(tmp_path) -> None:
    from dashboard.app import ASSET_MAX_AGE_S, create_app

    app = create_app(load_settings(data_dir=tmp_path, warehouse=tmp_path / "wh.duckdb", auth="off"))
    c = app.server.test_client()
    page = c.get("/").get_data(as_text=True)
    linked = re.findall(r'(/assets/[^"?]+\?m=[0-9.]+)', page)
    assert len(linked) >= 4, linked  # the style sheets and scripts of assets/
    for url in linked:
        r = c.get(url)
        assert r.status_code == 200 and r.headers["Cache-Control"] == "public, max-age=31536000, immutable", url
    icon = c.get("/assets/icons/info.svg")
    assert icon.status_code == 200 and icon.headers["Cache-Control"] == f"public, max-age={ASSET_MAX_AGE_S}"
    assert "max-age" not in (c.get("/assets/nothing-here.css?m=1").headers.get("Cache-Control") or "")
    for path in ("/", "/_dash-layout", "/_dash-dependencies"):
        assert "max-age=31536000" not in (c.get(path).headers.get("Cache-Control") or ""), path
