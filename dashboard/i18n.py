"""Words of the dashboard in Vietnamese (default) and English: t(key, lang, **values).

Vietnamese uses the administrative terms officials use (hồ sơ, thủ tục hành chính, trực tuyến toàn
trình, đúng hạn, quá hạn, phường/xã); the English is a faithful translation, not a second design.
KPI names, descriptions and units come from the metrics registry, not from here.
"""

from __future__ import annotations

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"

STRINGS: dict[str, tuple[str, str]] = {
    # shell
    "app_title": ("Nghị quyết 57 · Hà Nội", "Resolution 57 · Hanoi"),
    "app_subtitle": ("Bảng điều hành chỉ tiêu", "KPI dashboard"),
    "skip": ("Bỏ qua, tới nội dung chính", "Skip to main content"),
    "nav_overview": ("Tổng quan", "Overview"),
    "nav_wards": ("Phường, xã", "Wards & communes"),
    "nav_ward": ("Đơn vị", "Unit"),
    "nav_kpi": ("Chỉ tiêu", "KPI"),
    "nav_economy": ("Kinh tế & hạ tầng", "Economy & infrastructure"),
    "nav_health": ("Chất lượng dữ liệu", "Data health"),
    "nav_reports": ("Báo cáo", "Reports"),
    "lang_label": ("Ngôn ngữ", "Language"),
    "updated": ("cập nhật {time}, {ago}", "updated {time}, {ago}"),
    "never_updated": ("chưa có dữ liệu", "no data yet"),
    "demo_banner": ("Dữ liệu minh họa: các con số trên trang này được sinh tự động, không phải số liệu thật của "
                    "thành phố.", "Demo data: the figures on this page are generated, not the city's real data."),
    "stale_banner": ("Dữ liệu hồ sơ đã cũ: lần nạp thành công gần nhất lúc {time} ({ago}). Kiểm tra trang Chất "
                     "lượng dữ liệu.", "Dossier data is stale: the last successful load was at {time} ({ago}). "
                     "See the Data health page."),
    "stale_never": ("Chưa nạp được hồ sơ nào: chưa có lần nạp thành công.",
                    "No dossier data loaded yet: there has been no successful load."),
    "no_snapshot": ("Chưa có dữ liệu: kho dữ liệu chưa công bố bản sao đọc nào. Chạy `python app.py demo` để "
                    "tạo dữ liệu minh họa, hoặc đặt tệp hồ sơ vào thư mục data/inbox/dossiers.",
                    "No data yet: the warehouse has not published a read-only snapshot. Run `python app.py demo` "
                    "for demo data, or drop dossier files into data/inbox/dossiers."),
    "error": ("Không hiển thị được phần này: {error}", "This part could not be shown: {error}"),
    "na": ("N/A", "N/A"),
    # statuses (same words as the CLI, metrics/cli.py)
    "status_achieved": ("Đã đạt", "Achieved"),
    "status_on_track": ("Đúng tiến độ", "On track"),
    "status_needs_acceleration": ("Cần đẩy nhanh", "Needs acceleration"),
    "status_limited": ("Tiến triển hạn chế", "Limited progress"),
    "status_deteriorating": ("Đang xấu đi", "Deteriorating"),
    "status_no_data": ("Chưa đủ dữ liệu", "No data"),
    "status_none": ("Không có mục tiêu", "No target"),
    "status_few_data": ("Ít dữ liệu", "Few data"),
    "status_partial": ("Tạm tính", "Partial"),
    "reason_no_base": ("Cần số liệu {period} để đánh giá", "Needs {period} data to judge"),
    "reason_not_judged": ("Chưa đánh giá được", "Not judged yet"),
    # periods: complete by default; the period to date is always labelled as partial, with its date
    "partial_period": ("{period} — tạm tính đến {date}", "{period} — to date, {date}"),
    "partial_short": ("tạm tính", "to date"),
    "ytd": ("Lũy kế {months}", "Year to date, {months}"),
    "n_eq": ("n = {n}", "n = {n}"),
    "few_data_mark": ("ít dữ liệu", "few data"),
    "few_data_group": ("Ít dữ liệu (dưới {n} {word}): không xếp hạng, không tô màu",
                       "Few data (under {n} {word}): not ranked, not coloured"),
    "few_data_not_drawn": ("Ít dữ liệu, không vẽ thành cột (dưới {n} {word}): {units}",
                           "Few data, not drawn as bars (under {n} {word}): {units}"),
    "word_dossiers": ("hồ sơ", "dossiers"),
    "word_ratings": ("lượt đánh giá", "ratings"),
    "last_month_line": ("{period}: {value}", "{period}: {value}"),
    "col_basis": ("Căn cứ đánh giá", "Judged on"),
    "basis_year_to_date": ("lũy kế các tháng đã hết của năm", "year to date (complete months)"),
    "basis_last_complete_month": ("tháng đã hết gần nhất", "last complete month"),
    "basis_latest_publication": ("kỳ công bố gần nhất", "latest publication"),
    "col_n": ("n (mẫu số)", "n (base)"),
    "col_few_data": ("Ít dữ liệu", "Few data"),
    "col_group_rank": ("Nhóm", "Group"),
    "group_ranked": ("xếp hạng", "ranked"),
    "group_few_data": ("ít dữ liệu, không xếp hạng", "few data, not ranked"),
    "col_last_month": ("Tháng đã hết gần nhất", "Last complete month"),
    "col_last_month_value": ("Giá trị tháng đã hết", "Last complete month's value"),
    "col_last_month_status": ("Trạng thái tháng đã hết", "Last complete month's status"),
    "col_current": ("Tháng hiện tại (tạm tính)", "Current month (to date)"),
    "col_current_value": ("Giá trị tạm tính", "Value to date"),
    "col_current_n": ("n tạm tính", "n to date"),
    "col_as_of": ("Tính đến", "As of"),
    "col_partial": ("Tạm tính", "Partial"),
    "col_on_time_n": ("n đúng hạn (hồ sơ)", "On-time n (dossiers)"),
    # units and channels
    "unit_city": ("Toàn thành phố", "Whole city"),
    "unit_departments": ("Sở, ngành thành phố", "City departments"),
    "type_phuong": ("Phường", "Ward"),
    "type_xa": ("Xã", "Commune"),
    "type_all": ("Tất cả", "All"),
    "channel_online_full": ("Trực tuyến toàn trình", "Fully online"),
    "channel_online_partial": ("Trực tuyến một phần", "Partly online"),
    "channel_in_person": ("Trực tiếp", "In person"),
    "channel_postal": ("Bưu chính công ích", "Public postal service"),
    "dossier_received": ("Mới tiếp nhận", "Received"),
    "dossier_processing": ("Đang xử lý", "Processing"),
    # cards
    "target": ("Mục tiêu", "Target"),
    "deadline": ("hạn {date}", "by {date}"),
    "change_prev": ("{change} so với {period}", "{change} vs {period}"),
    "no_change": ("Chưa có kỳ trước để so sánh", "No previous period to compare"),
    "projected": ("Dự báo đến {date}: {value}", "Projected at {date}: {value}"),
    "projected_na": ("Chưa dự báo được: chưa có xu hướng để ngoại suy", "No projection: no trend to extend yet"),
    "ratings": ("{n} lượt đánh giá", "{n} ratings"),
    "period_of": ("Kỳ {period}", "Period {period}"),
    "revised": ("Đã điều chỉnh", "Revised"),
    "revised_note": ("Số liệu {period} đã được điều chỉnh: công bố lần đầu {first}, điều chỉnh {last}.",
                     "{period} figure revised: first published {first}, revised {last}."),
    "open_kpi": ("Xem chi tiết chỉ tiêu {name}", "Open the KPI page for {name}"),
    # overview
    "ov_title": ("Mục tiêu Nghị quyết 57 của Hà Nội", "Hanoi's Resolution 57 targets"),
    "ov_rank_kpi": ("Xếp hạng theo", "Rank by"),
    "ov_rank_title": ("{n} phường, xã theo {kpi} — {period}; kém nhất ở trên", "{n} wards and communes by {kpi} — "
                      "{period}; worst first"),
    "ov_view_rank": ("Xếp hạng", "Ranking"),
    "ov_view_map": ("Bản đồ", "Map"),
    "ov_all_units": ("Xem đủ {n} đơn vị trên trang chỉ tiêu →", "See all {n} units on the KPI page →"),
    "ov_no_units": ("Chưa có số liệu theo đơn vị cho chỉ tiêu này trong kỳ {period}.",
                    "No per-unit figures for this KPI in {period}."),
    "ov_changes_title": ("Thay đổi", "What changed"),
    "ov_received_today": ("Hồ sơ tiếp nhận hôm nay", "Dossiers received today"),
    "ov_received_yesterday": ("hôm qua: {n}", "yesterday: {n}"),
    "ov_received_yesterday_title": ("Hồ sơ tiếp nhận hôm qua ({date})", "Dossiers received yesterday ({date})"),
    "ov_received_before": ("hôm kia ({date}): {n} · {change}", "the day before ({date}): {n} · {change}"),
    "ov_received_today_partial": ("Hôm nay, tạm tính đến {time}:", "Today so far, to {time}:"),
    "ov_overdue_now": ("Hồ sơ quá hạn đang mở", "Open overdue dossiers"),
    "ov_overdue_vs": ("{change} so với cuối ngày hôm qua", "{change} since the end of yesterday"),
    "ov_new_overdue": ("Mới quá hạn trong 24 giờ: {n} hồ sơ", "Newly overdue in the last 24 h: {n} dossiers"),
    "ov_new_overdue_where": ("nhiều nhất ở {units}", "most in {units}"),
    "ov_overdue_units": ("Nhiều hồ sơ quá hạn nhất", "Most open overdue dossiers"),
    "ov_status_changes": ("Chỉ tiêu đổi trạng thái ({b} so với {a})", "KPIs that changed status ({b} vs {a})"),
    "ov_no_status_change": ("Không chỉ tiêu nào đổi trạng thái giữa {a} và {b}.",
                            "No KPI changed status between {a} and {b}."),
    "ov_rates_changes": ("Tháng {b} so với tháng {a}", "{b} against {a}"),
    "ov_new_publications": ("Số liệu mới công bố", "New publications"),
    "ov_rank_legend": ("Vạch đen: mục tiêu {target}", "Black mark: target {target}"),
    # wards
    "wd_title": ("Phường, xã: bảng xếp hạng", "Wards and communes: league table"),
    "wd_period": ("Kỳ", "Period"),
    "wd_type": ("Loại đơn vị", "Unit type"),
    "wd_search": ("Tìm đơn vị", "Find a unit"),
    "wd_search_ph": ("Gõ tên hoặc mã, ví dụ Cửa Nam", "Type a name or code, e.g. Cua Nam"),
    "wd_note": ("Bấm vào một dòng để mở đơn vị. Mặc định là tháng đã hết gần nhất; tháng hiện tại được ghi "
                "“tạm tính”. Đơn vị ít dữ liệu (dưới 30 hồ sơ) không tô màu, được xếp riêng sau các đơn vị khác. "
                "Sở, ngành thành phố được ghi riêng ở cuối bảng, không xếp hạng.",
                "Click a row to open the unit. The default is the last complete month; the current month is "
                "marked “to date”. Units with few data (under 30 dossiers) are not coloured and are ranked apart, "
                "after the others. City departments are listed apart at the bottom, not ranked."),
    "col_code": ("Mã", "Code"),
    "col_unit": ("Đơn vị", "Unit"),
    "col_type": ("Loại", "Type"),
    "col_status": ("Trạng thái đúng hạn", "On-time status"),
    "col_index766": ("Chỉ số 766 (điểm)", "766 index (points)"),
    "col_ratings": ("Lượt đánh giá", "Ratings"),
    # ward detail
    "wu_unit": ("Đơn vị", "Unit"),
    "wu_choose": ("Chọn phường, xã…", "Choose a ward or commune…"),
    "wu_pick": ("Chọn một phường, xã ở ô trên. Mười đơn vị có tỷ lệ giải quyết đúng hạn thấp nhất tháng này:",
                "Choose a ward or commune above. The ten with the lowest on-time rate this month:"),
    "wu_kpis": ("Chỉ tiêu của đơn vị so với thành phố và mục tiêu", "The unit's KPIs against the city and the target"),
    "wu_col_kpi": ("Chỉ tiêu", "KPI"),
    "wu_col_unit": ("Đơn vị", "Unit"),
    "wu_col_city": ("Toàn thành phố", "City"),
    "wu_col_target": ("Mục tiêu", "Target"),
    "wu_col_status": ("Trạng thái", "Status"),
    "wu_col_change": ("Thay đổi", "Change"),
    "wu_trend": ("Diễn biến theo tháng", "Monthly trend"),
    "wu_procs": ("Theo thủ tục hành chính", "By administrative procedure"),
    "wu_channels": ("Kênh tiếp nhận", "Channel mix"),
    "wu_index": ("Chỉ số phục vụ theo Quyết định 766", "Decision 766 service index"),
    "wu_index_total": ("Tổng: {score} / {computable} điểm tính được (thang 100)",
                       "Total: {score} of {computable} computable points (out of 100)"),
    "wu_index_components": ("Các thành phần và điểm", "Components and scores"),
    "wu_overdue": ("Hồ sơ quá hạn đang mở: {n}, gấp nhất ở trên", "Open overdue dossiers: {n}, most urgent first"),
    "wu_overdue_short": ("Hồ sơ quá hạn đang mở", "Open overdue dossiers"),
    "wu_overdue_none": ("Không có hồ sơ quá hạn đang mở.", "No open overdue dossiers."),
    "wu_overdue_more": ("Hiển thị {shown} hồ sơ gấp nhất trong {n}.", "Showing the {shown} most urgent of {n}."),
    "col_dossier": ("Mã hồ sơ", "Dossier no."),
    "col_procedure": ("Thủ tục", "Procedure"),
    "col_received": ("Tiếp nhận", "Received"),
    "col_due": ("Hạn trả", "Due"),
    "col_days_over": ("Số ngày làm việc quá hạn", "Working days overdue"),
    "col_dossier_status": ("Trạng thái", "Status"),
    "col_sector": ("Lĩnh vực", "Sector"),
    "col_group": ("Nhóm", "Group"),
    "col_component": ("Thành phần", "Component"),
    "col_rate": ("Tỷ lệ", "Rate"),
    "col_threshold": ("Ngưỡng đủ điểm", "Full points at"),
    "col_score": ("Điểm", "Score"),
    "col_max": ("Tối đa", "Max"),
    "city_label": ("Toàn thành phố", "City"),
    "unit_vs_city": ("{unit} so với toàn thành phố", "{unit} against the city"),
    "two_tier": ("Chính quyền 2 cấp (01/07/2025)", "Two-tier government (01/07/2025)"),
    "baseline": ("Kỳ gốc", "Baseline"),
    "target_line": ("Mục tiêu {value}", "Target {value}"),
    # KPI detail
    "kp_kpi": ("Chỉ tiêu", "KPI"),
    "kp_unit": ("Phạm vi", "Scope"),
    "kp_grain": ("Chu kỳ", "Grain"),
    "grain_month": ("Tháng", "Month"),
    "grain_quarter": ("Quý", "Quarter"),
    "grain_year": ("Năm", "Year"),
    "kp_trend": ("{kpi}: diễn biến", "{kpi} over time"),
    "kp_units": ("{kpi} theo đơn vị — {period}", "{kpi} by unit — {period}"),
    "kp_units_na": ("Chỉ tiêu này không có số liệu theo phường, xã.", "This KPI has no per-unit figures."),
    "kp_definition": ("Định nghĩa", "Definition"),
    "kp_formula": ("Công thức", "Formula"),
    "kp_legal": ("Căn cứ", "Legal basis"),
    "kp_unit_of": ("Đơn vị tính", "Unit"),
    "kp_direction": ("Chiều tốt", "Better when"),
    "dir_higher": ("cao hơn", "higher"),
    "dir_lower": ("thấp hơn", "lower"),
    "kp_sql": ("Câu truy vấn định nghĩa chỉ tiêu (SQL trên dữ liệu gốc)", "The SQL that defines it (over raw rows)"),
    "kp_target_doc": ("Văn bản đặt mục tiêu", "Set by"),
    "kp_accountable": ("Đơn vị chịu trách nhiệm", "Accountable"),
    "kp_no_target": ("Chỉ tiêu này chưa có mục tiêu trong sổ mục tiêu (targets.yaml).",
                     "This KPI has no target in the target registry (targets.yaml)."),
    "kp_why": ("Vì sao trạng thái là “{status}”", "Why the status is “{status}”"),
    "why_achieved": ("Giá trị {value} ({period}) đã đạt mục tiêu {target}.",
                     "The value {value} ({period}) already meets the target {target}."),
    "why_no_value": ("Chưa có giá trị cho kỳ {period}, nên chưa đánh giá được.",
                     "There is no value for {period}, so progress cannot be judged."),
    "why_no_base": ("Có giá trị {value} ({period}) nhưng chưa có giá trị kỳ gốc để đo xu hướng (chỉ tiêu không có "
                    "lịch sử, hoặc kỳ gốc chưa có dữ liệu).", "There is a value {value} ({period}) but no base "
                    "value to measure a trend from (the KPI keeps no history, or the base period has no data)."),
    "why_ratio": ("Từ {base} ({base_period}) đến {value} ({period}): tốc độ thực tế bằng {ratio} lần tốc độ cần để "
                  "đạt {target} vào {deadline} (R = {ratio}; đúng tiến độ khi R ≥ 0,95, cần đẩy nhanh 0,6–0,95, "
                  "hạn chế 0–0,6, xấu đi khi R < 0). Theo xu hướng này, đến hạn sẽ đạt khoảng {projected}.",
                  "From {base} ({base_period}) to {value} ({period}): the observed pace is {ratio} times the pace "
                  "needed to reach {target} by {deadline} (R = {ratio}; on track when R ≥ 0.95, needs "
                  "acceleration 0.6–0.95, limited 0–0.6, deteriorating below 0). On this trend it lands near "
                  "{projected} at the deadline."),
    "why_few_data": ("Giá trị {value} ({period}) chỉ dựa trên {n} {word}, dưới ngưỡng {min_n}: ít dữ liệu, chưa "
                     "đánh giá tiến độ.", "The value {value} ({period}) stands on only {n} {word}, under the "
                     "threshold of {min_n}: few data, progress is not judged."),
    "why_partial": ("Giá trị {value} ({period}) là tạm tính (kỳ chưa kết thúc), không dùng để đánh giá.",
                    "The value {value} ({period}) is to date (the period is not over) and is not judged."),
    "why_needs_base": ("Có giá trị {value} ({period}) nhưng cần số liệu {base} để đo xu hướng và đánh giá.",
                       "There is a value {value} ({period}), but {base} data is needed to measure a trend and "
                       "judge it."),
    "why_method_cagr": ("Phương pháp: tốc độ tăng trưởng kép (CAGR), theo Open SDG.",
                        "Method: compound annual growth (CAGR), after Open SDG."),
    "why_method_linear": ("Phương pháp: tuyến tính (kỳ gốc bằng 0 hoặc âm).",
                          "Method: linear (the base is zero or negative)."),
    "unknown_kpi": ("Không có chỉ tiêu “{kpi}”; đang hiển thị {name}.", "No KPI “{kpi}”; showing {name}."),
    "unknown_unit": ("Không có đơn vị “{unit}”; đang hiển thị {name}.", "No unit “{unit}”; showing {name}."),
    # economy
    "ec_title": ("Kinh tế số và hạ tầng số", "Digital economy and infrastructure"),
    "ec_series": ("Diễn biến theo kỳ công bố", "By publication period"),
    "ec_5g": ("Tỷ lệ dân số được phủ sóng 5G theo đơn vị — {period}", "5G population coverage by unit — {period}"),
    "ec_5g_na": ("Chưa có số liệu phủ sóng 5G theo đơn vị.", "No per-unit 5G coverage published yet."),
    "ec_revised_legend": ("◆ kỳ đã điều chỉnh", "◆ revised period"),
    "published": ("Công bố {date}", "Published {date}"),
    # data health
    "dh_title": ("Chất lượng dữ liệu", "Data health"),
    "dh_freshness": ("Độ mới theo nguồn", "Freshness by source"),
    "dh_source_dossiers": ("Hồ sơ TTHC", "Dossiers"),
    "dh_source_indicators": ("Chỉ số kinh tế, hạ tầng", "Economic & infrastructure indicators"),
    "dh_last_load": ("Nạp thành công gần nhất", "Last successful load"),
    "dh_last_run": ("Lần chạy gần nhất", "Last run"),
    "dh_newest": ("Bản ghi mới nhất", "Newest record"),
    "dh_query_slow": ("Truy vấn đang chạy trên dữ liệu gốc (chậm)", "Queries run on raw rows (slow)"),
    "dh_fresh": ("Mới", "Fresh"),
    "dh_stale": ("Đã cũ", "Stale"),
    "dh_runs": ("Các lần nạp gần nhất", "Latest ingest runs"),
    "dh_reasons": ("Dòng bị cách ly theo lý do", "Quarantined rows by reason"),
    "dh_reasons_none": ("Không có dòng nào bị cách ly.", "No quarantined rows."),
    "dh_quarantine": ("Danh sách dòng bị cách ly cần sửa (mới nhất ở trên)",
                      "Quarantined rows to fix (newest first)"),
    "run_ok": ("thành công", "ok"),
    "run_partial": ("một phần (có dòng cách ly)", "partial (rows quarantined)"),
    "run_failed": ("lỗi", "failed"),
    "run_duplicate": ("trùng, bỏ qua", "duplicate, skipped"),
    "source_dossiers": ("hồ sơ", "dossiers"),
    "source_indicators": ("chỉ số", "indicators"),
    "col_run": ("Lần nạp", "Run"),
    "col_source": ("Nguồn", "Source"),
    "col_channel": ("Kênh", "Channel"),
    "col_file": ("Tệp", "File"),
    "col_profile": ("Mẫu tệp", "Profile"),
    "col_started": ("Bắt đầu", "Started"),
    "col_duration": ("Thời gian (ms)", "Duration (ms)"),
    "col_read": ("Đọc", "Read"),
    "col_inserted": ("Thêm mới", "Inserted"),
    "col_updated": ("Cập nhật", "Updated"),
    "col_unchanged": ("Không đổi", "Unchanged"),
    "col_quarantined": ("Cách ly", "Quarantined"),
    "col_run_status": ("Kết quả", "Status"),
    "col_error": ("Lỗi", "Error"),
    "col_line": ("Dòng", "Line"),
    "col_record": ("Bản ghi", "Record"),
    "col_reason": ("Lý do", "Reason"),
    "col_column": ("Cột", "Column"),
    "col_value": ("Giá trị", "Value"),
    "col_rows": ("Số dòng", "Rows"),
    "col_files": ("Số tệp", "Files"),
    "col_latest": ("Gần nhất", "Latest"),
    "col_time": ("Thời điểm", "Time"),
    # downloads (dashboard/downloads.py): the menu, the files' columns and their cover
    "download": ("Tải về", "Download"),
    "dl_title": ("Nghị quyết 57 · Hà Nội — {name}", "Resolution 57 · Hanoi — {name}"),
    "f_page": ("Trang", "Page"),
    "f_table": ("Bảng", "Table"),
    "f_period": ("Kỳ", "Period"),
    "f_unit": ("Đơn vị", "Unit"),
    "f_type": ("Loại đơn vị", "Unit type"),
    "f_search": ("Tìm", "Search"),
    "f_kpi": ("Chỉ tiêu", "KPI"),
    "f_grain": ("Chu kỳ", "Grain"),
    "f_rows": ("Số dòng", "Rows"),
    "f_snapshot": ("Bản sao dữ liệu", "Data snapshot"),
    "f_shown": ("Các dòng", "Rows shown"),
    "f_as_shown": ("như trên màn hình: theo bộ lọc và thứ tự đang chọn", "as on screen: with the filters and order in use"),
    "col_kpi_code": ("Mã chỉ tiêu", "KPI code"),
    "col_kpi": ("Chỉ tiêu", "KPI"),
    "col_period": ("Kỳ", "Period"),
    "col_unit_word": ("Đơn vị tính", "Unit of measure"),
    "col_numerator": ("Tử số", "Numerator"),
    "col_denominator": ("Mẫu số", "Denominator"),
    "col_comparison": ("So sánh", "Comparison"),
    "col_target": ("Mục tiêu", "Target"),
    "col_deadline": ("Hạn", "Deadline"),
    "col_status_word": ("Trạng thái", "Status"),
    "col_change": ("Thay đổi so với kỳ trước", "Change vs previous period"),
    "col_projected": ("Dự báo đến hạn", "Projected at deadline"),
    "col_published": ("Công bố", "Published"),
    "col_first_published": ("Công bố lần đầu", "First published"),
    "col_last_published": ("Công bố gần nhất", "Last published"),
    "col_revised": ("Đã điều chỉnh", "Revised"),
    "col_rank": ("Hạng", "Rank"),
    "col_city_value": ("Toàn thành phố", "City"),
    "col_series": ("Chuỗi", "Series"),
    "yes": ("có", "yes"),
    # reports page
    "rp_title": ("Báo cáo tháng", "Monthly reports"),
    "rp_form": ("Tạo báo cáo ngay", "Make a report now"),
    "rp_month": ("Tháng", "Month"),
    "rp_unit": ("Phạm vi", "Scope"),
    "rp_lang": ("Ngôn ngữ báo cáo", "Report language"),
    "rp_lang_vi": ("Tiếng Việt", "Vietnamese"),
    "rp_lang_en": ("Tiếng Anh", "English"),
    "rp_make": ("Tạo báo cáo", "Make the report"),
    "rp_list": ("Báo cáo đã tạo", "Reports made"),
    "rp_schedule": ("Báo cáo thành phố và từng phường, xã (PDF và Excel) được tạo tự động lúc 07:00 ngày 1 hằng "
                    "tháng cho tháng trước; lần tạo lỗi được thử lại mỗi giờ.",
                    "The city report and one per ward/commune (PDF and Excel) are made automatically at 07:00 on "
                    "the 1st of each month for the previous month; a failed run is retried every hour."),
    "rp_empty": ("Chưa có báo cáo nào. Báo cáo được tạo tự động lúc 07:00 ngày 1 hằng tháng (cho tháng trước), "
                 "hoặc tạo ngay tại đây bằng mẫu ở trên.",
                 "No reports yet. Reports are made automatically at 07:00 on the 1st of each month (for the "
                 "previous month), or on demand here with the form above."),
    "rp_making": ("Đang tạo… báo cáo {month} — {unit} ({language}). Danh sách sẽ tự cập nhật khi xong.",
                  "Making… the {month} report — {unit} ({language}). The list updates itself when it is done."),
    "rp_made": ("Đã tạo xong báo cáo {month} — {unit} ({language}).", "The {month} report — {unit} ({language}) is ready."),
    "rp_failed": ("Không tạo được báo cáo {month} — {unit} ({language}): {error}",
                  "The {month} report — {unit} ({language}) failed: {error}"),
    "rp_bad_choice": ("Chọn tháng, phạm vi và ngôn ngữ trong danh sách.",
                      "Choose a month, a scope and a language from the lists."),
    "rp_status_ok": ("Xong", "Done"),
    "rp_status_failed": ("Lỗi", "Failed"),
    "rp_status_running": ("Đang tạo…", "Making…"),
    "rp_status_queued": ("Đang chờ…", "Queued…"),
    "rp_col_month": ("Tháng", "Month"),
    "rp_col_unit": ("Đơn vị", "Unit"),
    "rp_col_lang": ("Ngôn ngữ", "Language"),
    "rp_col_status": ("Trạng thái", "Status"),
    "rp_col_error": ("Lỗi", "Error"),
    "rp_col_attempts": ("Số lần thử", "Attempts"),
    "rp_col_generated": ("Thời điểm tạo", "Generated"),
    "rp_col_trigger": ("Cách tạo", "Made by"),
    "rp_col_files": ("Tải về", "Download"),
    "rp_trigger_scheduled": ("theo lịch", "schedule"),
    "rp_trigger_on_demand": ("theo yêu cầu", "on demand"),
    "rp_trigger_retry": ("thử lại", "retry"),
    "rp_trigger_catch_up": ("bù lịch", "catch-up"),
}


def t(key: str, lang: str = DEFAULT_LANG, **values) -> str:
    """The string for `key` in `lang`, with {placeholders} filled; an unknown key shows itself (visible in review)."""
    pair = STRINGS.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "en" else pair[0]
    return text.format(**values) if values else text


def lang_of(value) -> str:
    """The language in a store or URL value, defaulting to Vietnamese."""
    return value if value in LANGS else DEFAULT_LANG


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


def grid_locale(lang: str) -> dict:
    return GRID_LOCALE_VI if lang == "vi" else {}
