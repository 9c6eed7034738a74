"""Words of the reports in Vietnamese and English (one design, two languages), status words and symbols."""

from __future__ import annotations

from metrics.cli import STATUS_WORDS
from presentation import palette

# A status is never colour alone: a symbol and a word go with it. Symbols, colours and which statuses are
# left uncoloured come from the one status palette (presentation/palette.py), the screen's: the symbols
# follow Open SDG's progress icons, with ASCII stand-ins where no font has the glyph. 'few_data' and
# 'partial' are not judged: a word and a symbol but no colour (UNCOLOURED), and ranked apart.
STATUS_SYMBOLS = palette.symbols()
STATUS_ASCII = palette.symbols(ascii_only=True)
STATUS_COLOURS = palette.report_colours()
UNCOLOURED = palette.UNCOLOURED
STATUS_ORDER = ("achieved", "on_track", "needs_acceleration", "limited", "deteriorating", "no_data", "few_data")

TEXT: dict[str, dict[str, str]] = {
    "vi": {
        "title_city": "BÁO CÁO THÁNG {month} — THÀNH PHỐ HÀ NỘI",
        "title_unit": "BÁO CÁO THÁNG {month} — {unit}",
        "subtitle": "Theo dõi thực hiện Nghị quyết 57-NQ/TW về khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số",
        "period": "Kỳ báo cáo", "generated": "Thời điểm lập báo cáo", "tz": "giờ Hà Nội, UTC+7",
        "as_of": "Số liệu hồ sơ tính đến", "fresh": "Dữ liệu hồ sơ cập nhật lần cuối", "unit": "Đơn vị",
        "city": "Thành phố Hà Nội (toàn thành phố)", "lang": "Ngôn ngữ", "lang_name": "Tiếng Việt",
        "demo": "DỮ LIỆU MẪU / DEMO DATA",
        "demo_note": "Mọi số liệu trong báo cáo này là dữ liệu mẫu do hệ thống tự sinh, không phải số liệu thật.",
        "rounding": "Quy ước làm tròn: tỷ lệ % làm tròn 1 chữ số thập phân; số hồ sơ là số nguyên có dấu phân cách "
                    "hàng nghìn (1.234); số ngày làm việc 1 chữ số thập phân; ngày dd/mm/yyyy; giờ Hà Nội (UTC+7). "
                    "N/A: không có dữ liệu hoặc mẫu số bằng 0 (không bao giờ ghi 0 %). Mọi số liệu lấy từ lớp chỉ tiêu "
                    "(metrics API), cùng truy vấn với bảng điều khiển.",
        "source_note": "Nguồn: kho dữ liệu hồ sơ thủ tục hành chính và nguồn chỉ tiêu của thành phố.",
        "contents": "Nội dung",
        "sec_targets": "1. Các chỉ tiêu Nghị quyết 57: giá trị, mục tiêu, thời hạn, trạng thái",
        "sec_trend": "2. Xu hướng 12 tháng của các chỉ tiêu chính",
        "sec_ranking": "3. Xếp hạng phường, xã",
        "sec_overdue": "4. Hồ sơ quá hạn",
        "sec_defs": "Phụ lục: Định nghĩa chỉ tiêu",
        "targets_note": "Mỗi mục tiêu đánh giá trên cơ sở của nó (cột Kỳ đánh giá), như trang tổng quan vào ngày 1 "
                        "tháng sau: mục tiêu năm trên lũy kế các tháng trọn vẹn từ đầu năm đến hết tháng báo cáo; chỉ "
                        "tiêu kinh tế, hạ tầng trên công bố mới nhất đến cuối tháng. Cột tháng: giá trị riêng của tháng "
                        "báo cáo và thay đổi so với tháng trước. Trạng thái theo phương pháp Open SDG: so sánh tốc độ "
                        "thay đổi thực tế với tốc độ cần để đạt mục tiêu đúng hạn; Dự báo: giá trị dự kiến tại thời hạn "
                        "theo xu hướng hiện tại. Ít dữ liệu: tỷ lệ trên dưới 30 hồ sơ (10 lượt đánh giá), không đánh "
                        "giá trạng thái.",
        "legend": "Chú giải trạng thái",
        "trend_note": "Đường nét đứt: mục tiêu. Mỗi điểm là giá trị của một tháng.",
        "ranking_note": "Xếp hạng theo tỷ lệ hồ sơ giải quyết đúng hạn của tháng báo cáo, thấp lên cao (đơn vị cần chú ý "
                        "nhất đứng đầu, như bảng điều khiển); đơn vị ít dữ "
                        "liệu (dưới 30 hồ sơ xét) xếp riêng sau các đơn vị khác, không có thứ hạng, không tô màu; đơn "
                        "vị không có dữ liệu xếp cuối. Không gồm hồ sơ do các sở, ngành thành phố giải quyết (mã 01).",
        "few_data": "ít dữ liệu", "few_data_n": "ít dữ liệu ({what} n = {n})",
        "few_on_time": "đúng hạn", "few_online": "trực tuyến", "few_satisfaction": "hài lòng",
        "needs_base": "cần số liệu {period}", "basis_year_to_date": "lũy kế {start} – {end}",
        "basis_last_complete_month": "tháng {month}", "basis_latest_publication": "công bố {period}",
        "h_basis": "Kỳ đánh giá", "h_month_value": "Tháng {month}", "h_month_change": "Thay đổi so với tháng trước",
        "h_month_status": "Trạng thái tháng", "h_n": "n", "h_few": "Ít dữ liệu", "h_reason": "Lý do",
        "h_note": "Ghi chú", "no_data_reasons": "Chưa đủ dữ liệu để đánh giá tiến độ —",
        "rank_of": "{unit} xếp thứ {rank}/{n} về tỷ lệ đúng hạn và thứ {rank2}/{n} về tỷ lệ hồ sơ trực tuyến "
                   "(thứ 1: cao nhất).",
        "overdue_units_note": "Hồ sơ quá hạn tồn đọng tại thời điểm đánh giá của tháng ({as_of}), theo đơn vị.",
        "overdue_oldest_note": "Các hồ sơ đang quá hạn lâu nhất tại thời điểm lập báo cáo ({now}); chỉ mã hồ sơ, "
                               "không có thông tin cá nhân.",
        "overdue_none": "Không có hồ sơ quá hạn.",
        "chart_failed": "Không vẽ được biểu đồ ({error}); số liệu đầy đủ có trong bảng.",
        "no_target": "chưa có mục tiêu",
        "no_data": "Không có dữ liệu (N/A)",
        "target_line": "Mục tiêu",
        "city_line": "Toàn thành phố",
        "page": "Trang {n}/{total}",
        "footer": "Báo cáo tháng {month} — {unit}",
        # column headers
        "h_kpi": "Chỉ tiêu", "h_period": "Kỳ", "h_value": "Giá trị", "h_nd": "Tử số / mẫu số", "h_target": "Mục tiêu",
        "h_deadline": "Thời hạn", "h_status": "Trạng thái", "h_projected": "Dự báo tại hạn", "h_change": "Thay đổi",
        "h_rank": "Hạng", "h_code": "Mã", "h_unit": "Phường, xã", "h_type": "Loại", "h_on_time": "Đúng hạn (%)",
        "h_on_time_n": "Hồ sơ xét", "h_online": "Trực tuyến (%)", "h_received": "Tiếp nhận",
        "h_satisfaction": "Hài lòng (%)", "h_ratings": "Lượt đánh giá", "h_overdue": "Quá hạn tồn đọng",
        "h_dossier": "Mã hồ sơ", "h_procedure": "Mã thủ tục", "h_due": "Hạn trả", "h_received_at": "Ngày tiếp nhận",
        "h_days_overdue": "Số ngày làm việc quá hạn", "h_name": "Tên chỉ tiêu", "h_definition": "Định nghĩa",
        "h_formula": "Công thức", "h_unit_of": "Đơn vị tính", "h_legal": "Căn cứ", "h_month": "Tháng",
        "h_city": "Toàn thành phố", "h_filter": "Bộ lọc", "h_item": "Mục", "h_content": "Nội dung",
        "phuong": "Phường", "xa": "Xã", "city_depts": "Các sở, ngành thành phố",
        "total": "Tổng", "h_numerator": "Tử số", "h_denominator": "Mẫu số", "h_previous": "Kỳ trước",
        "h_comparison": "So sánh",
        # sheet names (<= 31 characters, no []:*?/\)
        "s_cover": "Bìa", "s_targets": "Mục tiêu NQ57", "s_trend": "Xu hướng 12 tháng", "s_ranking": "Xếp hạng phường xã",
        "s_overdue_units": "Quá hạn theo đơn vị", "s_overdue_oldest": "Quá hạn lâu nhất", "s_defs": "Định nghĩa",
    },
    "en": {
        "title_city": "MONTHLY REPORT {month} — HANOI CITY",
        "title_unit": "MONTHLY REPORT {month} — {unit}",
        "subtitle": "Monitoring Resolution 57-NQ/TW on science, technology, innovation and digital transformation",
        "period": "Reporting period", "generated": "Generated at", "tz": "Hanoi time, UTC+7",
        "as_of": "Dossier figures as of", "fresh": "Dossier data last updated", "unit": "Unit",
        "city": "Hanoi City (whole city)", "lang": "Language", "lang_name": "English",
        "demo": "DỮ LIỆU MẪU / DEMO DATA",
        "demo_note": "Every figure in this report is generated demo data, not real figures.",
        "rounding": "Rounding: percentages to 1 decimal; dossier counts as integers with thousands separators "
                    "(1,234); working days to 1 decimal; dates dd/mm/yyyy; times in Hanoi time (UTC+7). N/A: no data "
                    "or a zero denominator (never shown as 0 %). Every figure comes from the metrics layer (metrics "
                    "API), the same query as the dashboard.",
        "source_note": "Source: the city's administrative dossier warehouse and indicator feed.",
        "contents": "Contents",
        "sec_targets": "1. Resolution 57 targets: value, target, deadline, status",
        "sec_trend": "2. 12-month trend of the main KPIs",
        "sec_ranking": "3. Ward and commune ranking",
        "sec_overdue": "4. Overdue dossiers",
        "sec_defs": "Appendix: KPI definitions",
        "targets_note": "Each target is judged on its basis (Basis column), as the overview shows it on the 1st of the "
                        "next month: annual targets on the complete months of the year up to the end of the report "
                        "month; economic and infrastructure indicators on the latest publication up to the month's end. "
                        "Month columns: the report month's own value and its change from the month before. Status "
                        "after Open SDG: the observed rate of change against the rate needed to meet the target on "
                        "time; Projected: the value expected at the deadline on the current trend. Few data: a rate "
                        "over fewer than 30 dossiers (10 ratings), not judged.",
        "legend": "Status legend",
        "trend_note": "Dashed line: target. Each point is one month's value.",
        "ranking_note": "Ranked by the report month's on-time rate, lowest first (the units needing attention on top, "
                        "as on the dashboard); units with few data (under 30 "
                        "dossiers judged) are listed apart after the others, unranked and not coloured; units without "
                        "data come last. Dossiers handled by city departments (code 01) are left out.",
        "few_data": "few data", "few_data_n": "few data ({what} n = {n})",
        "few_on_time": "on time", "few_online": "online", "few_satisfaction": "satisfaction",
        "needs_base": "needs data for {period}", "basis_year_to_date": "year to date {start} – {end}",
        "basis_last_complete_month": "month {month}", "basis_latest_publication": "published {period}",
        "h_basis": "Basis", "h_month_value": "Month {month}", "h_month_change": "Change from the month before",
        "h_month_status": "Month status", "h_n": "n", "h_few": "Few data", "h_reason": "Reason",
        "h_note": "Note", "no_data_reasons": "Not enough data to measure progress —",
        "rank_of": "{unit} ranks {rank}/{n} for the on-time rate and {rank2}/{n} for the online share (1st: highest).",
        "overdue_units_note": "Overdue backlog at the month's judgement time ({as_of}), by unit.",
        "overdue_oldest_note": "The longest-overdue open dossiers at generation time ({now}); dossier ids only, no "
                               "personal data.",
        "overdue_none": "No overdue dossiers.",
        "chart_failed": "The chart could not be drawn ({error}); the full figures are in the table.",
        "no_target": "no target",
        "no_data": "No data (N/A)",
        "target_line": "Target",
        "city_line": "Whole city",
        "page": "Page {n}/{total}",
        "footer": "Monthly report {month} — {unit}",
        "h_kpi": "KPI", "h_period": "Period", "h_value": "Value", "h_nd": "Numerator / denominator", "h_target": "Target",
        "h_deadline": "Deadline", "h_status": "Status", "h_projected": "Projected at deadline", "h_change": "Change",
        "h_rank": "Rank", "h_code": "Code", "h_unit": "Ward / commune", "h_type": "Type", "h_on_time": "On time (%)",
        "h_on_time_n": "Dossiers judged", "h_online": "Online (%)", "h_received": "Received",
        "h_satisfaction": "Satisfied (%)", "h_ratings": "Ratings", "h_overdue": "Overdue backlog",
        "h_dossier": "Dossier id", "h_procedure": "Procedure code", "h_due": "Due", "h_received_at": "Received",
        "h_days_overdue": "Working days overdue", "h_name": "KPI name", "h_definition": "Definition",
        "h_formula": "Formula", "h_unit_of": "Unit", "h_legal": "Legal basis", "h_month": "Month",
        "h_city": "Whole city", "h_filter": "Filter", "h_item": "Item", "h_content": "Content",
        "phuong": "Ward", "xa": "Commune", "city_depts": "City departments",
        "total": "Total", "h_numerator": "Numerator", "h_denominator": "Denominator", "h_previous": "Previous period",
        "h_comparison": "Comparison",
        "s_cover": "Cover", "s_targets": "R57 targets", "s_trend": "12-month trend", "s_ranking": "Ward ranking",
        "s_overdue_units": "Overdue by unit", "s_overdue_oldest": "Longest overdue", "s_defs": "Definitions",
    },
}


def t(lang: str, key: str, **kw: object) -> str:
    """The phrase `key` in `lang` ('vi' or 'en'), with {placeholders} filled."""
    text = TEXT["en" if lang == "en" else "vi"][key]
    return text.format(**kw) if kw else text


def reason_text(reason: str | None, lang: str) -> str:
    """Why a target has no judged status, in words: 'cần số liệu 2024' for 'no_base:2024'; '' otherwise."""
    if reason and reason.startswith("no_base:"):
        return t(lang, "needs_base", period=period_words(reason.split(":", 1)[1]))
    return ""


def period_words(label: str) -> str:
    """A period label as the reports write it: '2025-01-01..2025-10-31' -> '01/01/2025 – 31/10/2025',
    '2025-10' -> '10/2025'; other labels (2025, 2025-Q3) as they are."""
    text = str(label)
    if ".." in text:
        a, b = text.split("..", 1)
        return f"{_dmy(a)} – {_dmy(b)}"
    if len(text) == 7 and text[4] == "-" and text[5:].isdigit():
        return f"{text[5:]}/{text[:4]}"
    return text


def _dmy(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"


def status_label(status: str | None, lang: str, ascii_only: bool = False) -> str:
    """A status as symbol + word, e.g. '↗ Cần đẩy nhanh'; empty for a KPI without a target."""
    if not status:
        return ""
    symbol = (STATUS_ASCII if ascii_only else STATUS_SYMBOLS).get(status, "")
    word = STATUS_WORDS["en" if lang == "en" else "vi"].get(status, status)
    return f"{symbol} {word}".strip()
