"""Why a row or a file was set aside, in words an officer can act on (Vietnamese first, English).

The warehouse stores only the code, the column and the offending value; the words live here so they
can be improved without touching stored data.
"""

from __future__ import annotations

import re

# What a rejected value is replaced by when it cannot be kept (ingest.privacy writes them in SQL)
DIGITS_TOKEN, TEXT_TOKEN = "<digits, {n}>", "<text, {n} chars>"
_MASKED = re.compile(r"<(digits), (\d+)>|<(text), (\d+) chars>")


def is_masked(value) -> bool:
    return isinstance(value, str) and _MASKED.fullmatch(value) is not None


def masked_words(value: str, lang: str) -> str:
    """A masked value in the reader's language: `<dãy số, 10 chữ số>`, `<văn bản, 13 ký tự>`."""
    m = _MASKED.fullmatch(value)
    if m is None or lang != "vi":
        return value
    if m.group(1):
        return f"<dãy số, {m.group(2)} chữ số>"
    return f"<văn bản, {m.group(4)} ký tự>"


REASONS: dict[str, tuple[str, str]] = {
    # rows
    "missing_value": ("Thiếu giá trị bắt buộc ở cột {column}", "Required value missing in column {column}"),
    "unknown_unit": (
        "Mã đơn vị '{value}' không có trong danh mục 126 phường/xã của Hà Nội",
        "Unit '{value}' is not one of Hanoi's 126 wards/communes (5-digit code or exact name)",
    ),
    "unknown_channel": (
        "Kênh tiếp nhận '{value}' không hợp lệ (online_full, online_partial, in_person, postal)",
        "Unknown channel '{value}' (expected online_full, online_partial, in_person or postal)",
    ),
    "unknown_status": (
        "Trạng thái '{value}' không hợp lệ",
        "Unknown status '{value}' (expected received, processing, supplement_requested, completed, "
        "returned, rejected or withdrawn, or their Vietnamese names)",
    ),
    "unknown_applicant_type": (
        "Loại chủ hồ sơ '{value}' không hợp lệ (citizen/business)",
        "Unknown applicant type '{value}' (expected citizen or business)",
    ),
    "bad_date": (
        "Không đọc được ngày '{value}' ở cột {column} (dùng dd/mm/yyyy hoặc dd/mm/yyyy HH:MM)",
        "Cannot read date '{value}' in column {column} (use dd/mm/yyyy, dd/mm/yyyy HH:MM or ISO 8601)",
    ),
    "date_out_of_range": (
        "Ngày '{value}' ở cột {column} nằm ngoài khoảng 2015–2040",
        "Date '{value}' in column {column} is outside 2015–2040",
    ),
    "received_in_future": (
        "Ngày tiếp nhận '{value}' ở tương lai",
        "Received date '{value}' is in the future",
    ),
    "due_before_received": (
        "Ngày hẹn trả '{value}' trước ngày tiếp nhận",
        "Due date '{value}' is before the received date",
    ),
    "completed_before_received": (
        "Ngày hoàn thành '{value}' trước ngày tiếp nhận",
        "Completion date '{value}' is before the received date",
    ),
    "finished_without_date": (
        "Trạng thái '{value}' là đã kết thúc nhưng thiếu ngày hoàn thành",
        "Status '{value}' means finished but the completion date is empty",
    ),
    "date_on_open_dossier": (
        "Hồ sơ đang xử lý (trạng thái '{value}') nhưng đã có ngày hoàn thành",
        "Dossier is still open (status '{value}') but has a completion date",
    ),
    "bad_rating": (
        "Đánh giá '{value}' phải là số nguyên từ 1 đến 5",
        "Rating '{value}' must be a whole number from 1 to 5",
    ),
    "bad_integer": (
        "Giá trị '{value}' ở cột {column} phải là số nguyên không âm",
        "Value '{value}' in column {column} must be a whole number ≥ 0",
    ),
    "bad_boolean": (
        "Giá trị '{value}' ở cột {column} phải là có/không (1/0, true/false)",
        "Value '{value}' in column {column} must be yes/no (1/0, true/false, có/không)",
    ),
    "malformed_line": ("Dòng sai cấu trúc: {value}", "Malformed line: {value}"),
    "bad_identifier": (
        "Mã '{value}' ở cột {column} không hợp lệ: mã không được chứa khoảng trắng, '@' hay ký tự điều khiển/ẩn "
        "và dài tối đa 64 ký tự",
        "Code '{value}' in column {column} is invalid: codes hold no spaces, '@' or control/invisible characters "
        "and are at most 64 characters long",
    ),
    "date_in_future": (
        "Ngày '{value}' ở cột {column} ở tương lai (quá giờ máy chủ)",
        "Date '{value}' in column {column} is in the future (ahead of the server's clock)",
    ),
    "due_too_far": (
        "Ngày hẹn trả '{value}' quá xa trong tương lai (nhập nhầm?)",
        "Due date '{value}' is too far in the future (a typing error?)",
    ),
    # indicators
    "unknown_indicator": (
        "Mã chỉ tiêu '{value}' không có trong danh mục chỉ tiêu",
        "Indicator '{value}' is not in the indicator catalogue",
    ),
    "bad_period": (
        "Kỳ '{value}' không hợp lệ (dạng 2026, 2026-Q1 hoặc 2026-03)",
        "Period '{value}' is invalid (use 2026, 2026-Q1 or 2026-03)",
    ),
    "bad_number": (
        "Giá trị '{value}' ở cột {column} không phải là số",
        "Value '{value}' in column {column} is not a number",
    ),
    # whole files
    "bad_encoding": ("Tệp không phải UTF-8", "File is not UTF-8"),
    "corrupt_file": ("Tệp bị hỏng hoặc không đọc được", "File is corrupt or unreadable"),
    "empty_file": ("Tệp rỗng", "File is empty"),
    "not_a_table": ("Tệp không phải dạng bảng", "File is not a table"),
    "no_header": ("Thiếu dòng tiêu đề cột", "Header line missing"),
    "no_profile": ("Không nhận ra định dạng cột của tệp", "No mapping profile matches the file's columns"),
    "duplicate_headers": ("Tên cột bị lặp", "Column names repeat"),
    "unsupported_format": ("Định dạng tệp không được hỗ trợ", "Unsupported file format"),
    "too_large": ("Tệp vượt giới hạn kích thước", "File over the size limit"),
    "internal_error": ("Lỗi hệ thống khi nạp tệp", "System error while loading the file"),
}


TITLES: dict[str, tuple[str, str]] = {
    "missing_value": ("thiếu giá trị bắt buộc", "required value missing"),
    "unknown_unit": ("đơn vị không có trong danh mục", "unknown unit"),
    "unknown_channel": ("kênh tiếp nhận không hợp lệ", "unknown channel"),
    "unknown_status": ("trạng thái không hợp lệ", "unknown status"),
    "unknown_applicant_type": ("loại chủ hồ sơ không hợp lệ", "unknown applicant type"),
    "bad_date": ("ngày không đọc được", "unreadable date"),
    "date_out_of_range": ("ngày ngoài khoảng 2015–2040", "date outside 2015–2040"),
    "received_in_future": ("ngày ở tương lai", "date in the future"),
    "due_before_received": ("hẹn trả trước ngày tiếp nhận", "due before received"),
    "completed_before_received": ("hoàn thành trước ngày tiếp nhận", "completed before received"),
    "finished_without_date": ("đã kết thúc nhưng thiếu ngày hoàn thành", "finished without a completion date"),
    "date_on_open_dossier": ("đang xử lý nhưng có ngày hoàn thành", "open dossier with a completion date"),
    "bad_rating": ("đánh giá ngoài 1–5", "rating outside 1–5"),
    "bad_integer": ("không phải số nguyên không âm", "not a whole number ≥ 0"),
    "bad_boolean": ("không phải có/không", "not yes/no"),
    "malformed_line": ("dòng sai cấu trúc", "malformed line"),
    "bad_identifier": ("mã không hợp lệ", "invalid code"),
    "date_in_future": ("ngày ở tương lai", "date in the future"),
    "due_too_far": ("hẹn trả quá xa", "due date too far ahead"),
    "unknown_indicator": ("chỉ tiêu không có trong danh mục", "unknown indicator"),
    "bad_period": ("kỳ không hợp lệ", "invalid period"),
    "bad_number": ("không phải là số", "not a number"),
}


def title(code: str, lang: str = "vi") -> str:
    """A short name of the reason, for summaries."""
    vi, en = TITLES.get(code, (code, code))
    return vi if lang == "vi" else en


def describe(code: str, column: str | None = None, value: str | None = None, lang: str = "vi") -> str:
    vi, en = REASONS.get(code, (code, code))
    template = vi if lang == "vi" else en
    value = value if isinstance(value, str) else None  # SQL NULL read through pandas is NaN, not None
    column = column if isinstance(column, str) else None
    if not isinstance(value, str):  # None, or NaN from a pandas frame (SQL NULL in a text column)
        value = None
    if not isinstance(column, str):
        column = None
    if is_masked(value):  # stored as its shape only (ingest.privacy)
        value = masked_words(value, lang)
    shown = value if value is None or len(value) <= 80 else value[:77] + "..."
    return template.format(column=column or "", value="" if shown is None else shown)
