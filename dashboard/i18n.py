"""The dashboard's language plumbing: which language a request reads (cookie, Accept-Language).

The words themselves live in the one word catalogue, presentation/words.py (gettext .po files under
presentation/locale): `t(key, lang, **values)` is re-exported here for the dashboard's modules.
Vietnamese uses the administrative terms officials use (hồ sơ, thủ tục hành chính, trực tuyến toàn
trình, đúng hạn, quá hạn, phường/xã); the English is a faithful translation, not a second design.
KPI names, descriptions and units come from the metrics registry, not from the catalogue.
"""

from __future__ import annotations

from presentation.words import DEFAULT_LANG, LANGS, lang_of, t  # noqa: F401  (re-exported)

# The choice lives in localStorage (the shell's dcc.Store); the browser mirrors it into this cookie so
# that a page's first paint is already in the right language (layouts are built on the server).
COOKIE = "r57_lang"


def request_lang() -> str:
    """The language of the current page request: its cookie, then its Accept-Language; Vietnamese outside a
    request or by default."""
    try:
        import flask

        chosen = flask.request.cookies.get(COOKIE)
        if chosen in LANGS:
            return chosen
        return lang_of(flask.request.accept_languages.best_match(LANGS, default=DEFAULT_LANG))
    except RuntimeError:  # no request: start-up, tests
        return DEFAULT_LANG


# AG Grid's own words (pagination, filters), so a Vietnamese grid reads in Vietnamese.
GRID_LOCALE_VI = {
    "page": "Trang", "more": "nhiều hơn", "to": "đến", "of": "trên", "next": "Trang sau", "last": "Trang cuối",
    "first": "Trang đầu", "previous": "Trang trước", "loadingOoo": "Đang tải...", "noRowsToShow": "Không có dòng nào",
    "filterOoo": "Lọc...", "equals": "Bằng", "notEqual": "Khác", "blank": "Trống", "notBlank": "Không trống",
    "empty": "Chọn một", "lessThan": "Nhỏ hơn", "greaterThan": "Lớn hơn", "lessThanOrEqual": "Nhỏ hơn hoặc bằng",
    "greaterThanOrEqual": "Lớn hơn hoặc bằng", "inRange": "Trong khoảng", "inRangeStart": "Từ", "inRangeEnd": "Đến",
    "contains": "Chứa", "notContains": "Không chứa", "startsWith": "Bắt đầu bằng", "endsWith": "Kết thúc bằng",
    "andCondition": "VÀ", "orCondition": "HOẶC", "applyFilter": "Áp dụng", "resetFilter": "Đặt lại",
    "clearFilter": "Xóa", "cancelFilter": "Hủy", "searchOoo": "Tìm...", "selectAll": "Chọn tất cả",
    "sortAscending": "Sắp xếp tăng dần", "sortDescending": "Sắp xếp giảm dần", "sortUnSort": "Bỏ sắp xếp",
    "pageSizeSelectorLabel": "Số dòng mỗi trang:", "ariaPageSizeSelectorLabel": "Số dòng mỗi trang",
    "columnFilter": "Lọc cột", "ariaFilterInput": "Ô lọc",
}


# AG Grid's own English words, spelled out: an empty dict does not reset a grid that was drawn in
# Vietnamese, so an English page kept "Trang 1 trên 1" in its pager.
GRID_LOCALE_EN = {
    "page": "Page", "more": "more", "to": "to", "of": "of", "next": "Next Page", "last": "Last Page",
    "first": "First Page", "previous": "Previous Page", "loadingOoo": "Loading...", "noRowsToShow": "No Rows To Show",
    "filterOoo": "Filter...", "equals": "Equals", "notEqual": "Does not equal", "blank": "Blank", "notBlank": "Not blank",
    "empty": "Choose one", "lessThan": "Less than", "greaterThan": "Greater than",
    "lessThanOrEqual": "Less than or equal to", "greaterThanOrEqual": "Greater than or equal to",
    "inRange": "Between", "inRangeStart": "From", "inRangeEnd": "To",
    "contains": "Contains", "notContains": "Does not contain", "startsWith": "Begins with", "endsWith": "Ends with",
    "andCondition": "AND", "orCondition": "OR", "applyFilter": "Apply", "resetFilter": "Reset",
    "clearFilter": "Clear", "cancelFilter": "Cancel", "searchOoo": "Search...", "selectAll": "(Select All)",
    "sortAscending": "Sort Ascending", "sortDescending": "Sort Descending", "sortUnSort": "Clear Sort",
    "pageSizeSelectorLabel": "Page Size:", "ariaPageSizeSelectorLabel": "Page Size",
    "columnFilter": "Column Filter", "ariaFilterInput": "Filter Input",
}

GRID_LOCALES = {"vi": GRID_LOCALE_VI, "en": GRID_LOCALE_EN}


def grid_locale(lang: str) -> dict:
    return GRID_LOCALES[lang_of(lang)]
