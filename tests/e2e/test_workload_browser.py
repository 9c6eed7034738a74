"""One-stop workload (issue 12) in a browser: the overview's overload line and the ward page's flag, on a
phone (390 px) and a wall screen (1920 px); the overview still fits one 1920x1080 screen and no page is
wider than the window. Screenshots: test-artifacts/screenshots/workload-*.png."""

from __future__ import annotations

import pytest

from .browser import open_page, overflow, screenshot, settle, viewport

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def overloaded_unit(e2e_settings):
    """An overloaded unit of the last complete month, as the metrics layer judges it."""
    from metrics.workload import overloaded
    from warehouse.db import Reader

    reader = Reader(e2e_settings)
    cur = reader.cursor()
    try:
        df = overloaded(cur)
    finally:
        cur.close()
        reader.close()
    over = df[df["overloaded"]]
    assert not over.empty, "the demo understaffs a few units: one must be flagged"
    return over.iloc[0]["unit_code"], int(df["overloaded"].sum())


def test_overload_on_the_overview_and_the_ward_page_at_390_and_1920(dash_duo, app, overloaded_unit, shots):
    unit, n = overloaded_unit
    dash_duo.start_server(app)
    driver = dash_duo.driver
    for width, height in ((1920, 1080), (390, 844)):
        viewport(driver, width, height)
        open_page(dash_duo, "/", "#ov-workload a")
        line = dash_duo.find_element("#ov-workload a")
        assert line.text.startswith("Đơn vị quá tải ở bộ phận một cửa") and line.text.endswith(f": {n}")
        assert line.is_displayed() and line.get_attribute("href").endswith("/?kpi=workload_vs_median")
        assert overflow(driver) <= 0, f"overview wider than {width} px"
        if width == 1920:  # still one wall screen, the ranking a useful part of it
            assert driver.execute_script("return document.scrollingElement.scrollHeight") <= 1080
            assert driver.execute_script("return document.querySelector('#ov-rank .rank-box').clientHeight") >= 200
        screenshot(driver, shots / f"workload-overview-{width}.png")

        open_page(dash_duo, f"/ward?unit={unit}", "#wu-workload-flag")
        flag = dash_duo.find_element("#wu-workload-flag")
        assert flag.text.startswith("Quá tải bộ phận một cửa.") and flag.is_displayed()
        assert overflow(driver) <= 0, f"ward page wider than {width} px"
        screenshot(driver, shots / f"workload-ward-{width}.png")

    # the line leads to the ranking by workload against the city median
    viewport(driver, 1920, 1080)
    open_page(dash_duo, "/", "#ov-workload a")
    driver.execute_script("arguments[0].click();", dash_duo.find_element("#ov-workload a"))
    dash_duo.wait_for_element("#ov-rank .rank-row", timeout=30)
    settle(driver)
    assert driver.current_url.endswith("/?kpi=workload_vs_median")
    assert "Hồ sơ mỗi cán bộ so với trung vị thành phố" in dash_duo.find_element("#ov-rank-title").text
    assert overflow(driver) <= 0
    screenshot(driver, shots / "workload-ranking-1920.png")
    open_page(dash_duo, "/wards", "#wd-grid .ag-row")
    assert overflow(driver) <= 0
    screenshot(driver, shots / "workload-wards-1920.png")
