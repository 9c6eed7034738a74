"""The DEMO plan: 20 task groups and 60 tasks shaped like Hanoi's next-phase Resolution 57 plan (digital
transformation, science and technology, innovation), led by real city departments and some wards, some tasks
linked to KPIs of the registry. Clearly demo: the plan is flagged `demo` and every page says so. Progress
histories are generated relative to the seeding day, so the demo shows each status (done, on track, at risk,
late, not started) and tasks overdue for an update. Loaded through the same upsert as an imported annex.
"""

from __future__ import annotations

from datetime import date, timedelta

from metrics.plan_status import expected_percent

from . import DEFAULT_PLAN

D = date.fromisoformat
P = "Giám đốc "  # a responsible position, never a person's name

# (code, name_vi, name_en, tasks); task: (name_vi, name_en, lead, co-units, responsible, start, deadline,
#   kpi or reported indicator, target value, unit of measure, demo profile)
GROUPS: tuple = (
    ("N01", "Hoàn thiện thể chế, cơ chế, chính sách phát triển khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số",
     "Institutions, mechanisms and policies for science, technology, innovation and digital transformation", (
         ("Ban hành quy chế thí điểm cơ chế thử nghiệm có kiểm soát (sandbox) cho công nghệ mới",
          "Issue the regulation on a controlled testing mechanism (sandbox) for new technologies",
          "SKHCN", ("STP",), P + "Sở Khoa học và Công nghệ", "2025-07-01", "2026-06-30", "Văn bản ban hành", 1,
          "văn bản", "done"),
         ("Rà soát, bãi bỏ thủ tục, quy định cản trở hoạt động khoa học, công nghệ",
          "Review and repeal procedures and rules that hinder science and technology",
          "STP", ("SKHCN",), P + "Sở Tư pháp", "2025-07-01", "2026-09-30", "Quy định được rà soát", 120,
          "quy định", "late"),
         ("Cơ chế khoán chi đến sản phẩm cuối cùng cho nhiệm vụ khoa học, công nghệ",
          "Lump-sum funding to final products for science and technology tasks",
          "STC", ("SKHCN",), P + "Sở Tài chính", "2025-10-01", "2027-06-30", "Nhiệm vụ áp dụng khoán chi", 50,
          "nhiệm vụ", "on"),
     )),
    ("N02", "Phát triển hạ tầng số, hạ tầng dữ liệu hiện đại", "Modern digital and data infrastructure", (
         ("Phủ sóng 5G toàn thành phố", "5G coverage across the city", "SKHCN", ("SXD",),
          P + "Sở Khoa học và Công nghệ", "2025-07-01", "2026-12-31", "coverage_5g", None, None, "kpi"),
         ("Xây dựng Trung tâm dữ liệu tập trung của thành phố", "Build the city's central data centre",
          "SKHCN", ("STC", "CATP"), P + "Sở Khoa học và Công nghệ", "2025-09-01", "2027-12-31",
          "Tiến độ xây dựng", 100, "%", "risk"),
         ("Ngầm hóa, chỉnh trang cáp viễn thông trên các tuyến phố chính", "Underground telecom cables on main streets",
          "SXD", ("SKHCN",), P + "Sở Xây dựng", "2025-07-01", "2026-12-31", "Tuyến phố hoàn thành", 40,
          "tuyến phố", "on"),
     )),
    ("N03", "Xây dựng chính quyền số, dịch vụ công trực tuyến toàn trình", "Digital government and full online public services", (
         ("Cung cấp dịch vụ công trực tuyến toàn trình", "Provide full online public services", "VPUB", ("TTPVHCC",),
          "Chánh Văn phòng UBND thành phố", "2025-07-01", "2026-12-31", "service_coverage_full", None, None, "kpi"),
         ("Nâng tỷ lệ hồ sơ trực tuyến toàn trình", "Raise the share of full online dossiers", "TTPVHCC", ("VPUB",),
          P + "Trung tâm Phục vụ hành chính công", "2025-07-01", "2026-12-31", "full_online_share", None, None, "kpi"),
         ("Giải quyết hồ sơ đúng hạn trên toàn thành phố", "Settle dossiers on time across the city", "VPUB",
          ("SNV",), "Chánh Văn phòng UBND thành phố", "2025-07-01", "2026-12-31", "on_time_rate", None, None, "kpi"),
     )),
    ("N04", "Phát triển dữ liệu số, cơ sở dữ liệu dùng chung", "Digital data and shared databases", (
         ("Số hóa hồ sơ, kết quả giải quyết thủ tục hành chính", "Digitise dossiers and procedure results", "TTPVHCC",
          ("VPUB",), P + "Trung tâm Phục vụ hành chính công", "2025-07-01", "2026-12-31", "digitisation", None, None,
          "kpi"),
         ("Tái sử dụng dữ liệu đã số hóa, không yêu cầu người dân nộp lại", "Reuse digitised data instead of asking again",
          "TTPVHCC", ("CATP",), P + "Trung tâm Phục vụ hành chính công", "2025-07-01", "2026-12-31", "data_reuse",
          None, None, "kpi"),
         ("Kết nối cơ sở dữ liệu dân cư với các hệ thống của thành phố", "Connect the population database to city systems",
          "CATP", ("SKHCN",), "Giám đốc Công an thành phố", "2025-08-01", "2026-10-31", "Hệ thống được kết nối", 25,
          "hệ thống", "done"),
     )),
    ("N05", "Phát triển kinh tế số", "The digital economy", (
         ("Nâng tỷ trọng kinh tế số trong GRDP", "Raise the digital economy's share of GRDP", "SCT", ("TKHN",),
          P + "Sở Công Thương", "2025-07-01", "2026-12-31", "digital_economy_share", None, None, "kpi"),
         ("Thanh toán trực tuyến phí, lệ phí thủ tục hành chính", "Online payment of procedure fees", "STC",
          ("TTPVHCC",), P + "Sở Tài chính", "2025-07-01", "2026-12-31", "online_payment_share", None, None, "kpi"),
         ("Hỗ trợ doanh nghiệp nhỏ và vừa chuyển đổi số", "Help small and medium firms go digital", "SCT", (),
          P + "Sở Công Thương", "2025-10-01", "2027-06-30", "Doanh nghiệp được hỗ trợ", 5000, "doanh nghiệp", "stale"),
     )),
    ("N06", "Phát triển xã hội số, công dân số", "Digital society and digital citizens", (
         ("Phổ cập kỹ năng số cho người dân qua tổ công nghệ số cộng đồng", "Digital skills for residents through community digital teams",
          "SVHTT", ("00073", "00070"), P + "Sở Văn hóa và Thể thao", "2025-07-01", "2026-12-31", "Người dân được tập huấn",
          200000, "người", "on"),
         ("Định danh điện tử mức 2 cho người dân từ 14 tuổi", "Level-2 electronic identification for residents aged 14+",
          "CATP", (), "Giám đốc Công an thành phố", "2025-07-01", "2026-06-30", "Tỷ lệ người dân có định danh mức 2", 95,
          "%", "done"),
         ("Nâng mức độ hài lòng của người dân với dịch vụ công", "Raise residents' satisfaction with public services",
          "SNV", ("VPUB",), P + "Sở Nội vụ", "2025-07-01", "2026-12-31", "satisfaction", None, None, "kpi"),
     )),
    ("N07", "Phát triển nguồn nhân lực chất lượng cao cho khoa học, công nghệ và chuyển đổi số",
     "High-quality human resources for science, technology and digital transformation", (
         ("Đào tạo kỹ sư vi mạch bán dẫn, trí tuệ nhân tạo", "Train semiconductor and AI engineers", "SGDDT",
          ("SKHCN",), P + "Sở Giáo dục và Đào tạo", "2025-09-01", "2030-12-31", "Kỹ sư được đào tạo", 10000, "người",
          "on"),
         ("Bồi dưỡng kỹ năng số cho cán bộ, công chức cấp xã", "Digital skills training for commune-level officials", "SNV",
          (), P + "Sở Nội vụ", "2025-07-01", "2026-09-30", "Cán bộ được bồi dưỡng", 8000, "người", "late"),
         ("Thu hút chuyên gia, nhà khoa học đầu ngành về làm việc", "Attract leading experts and scientists", "SNV",
          ("SKHCN",), P + "Sở Nội vụ", "2026-01-01", "2027-12-31", "Chuyên gia được thu hút", 100, "người", "risk"),
     )),
    ("N08", "Nghiên cứu, làm chủ công nghệ chiến lược", "Research and mastery of strategic technologies", (
         ("Thương mại hóa sản phẩm công nghệ chiến lược", "Commercialise strategic technology products", "SKHCN",
          ("BQLKCN",), P + "Sở Khoa học và Công nghệ", "2025-07-01", "2026-12-31", "strategic_tech_products", None,
          None, "kpi"),
         ("Đặt hàng nhiệm vụ khoa học, công nghệ giải quyết bài toán của thành phố", "Commission research on the city's problems",
          "SKHCN", (), P + "Sở Khoa học và Công nghệ", "2025-07-01", "2026-12-31", "Nhiệm vụ được đặt hàng", 30,
          "nhiệm vụ", "on"),
         ("Phòng thí nghiệm trọng điểm về trí tuệ nhân tạo", "A key artificial intelligence laboratory", "SKHCN",
          ("SGDDT",), P + "Sở Khoa học và Công nghệ", "2026-03-01", "2027-12-31", "Tiến độ đầu tư", 100, "%", "risk"),
     )),
    ("N09", "Phát triển hệ sinh thái khởi nghiệp đổi mới sáng tạo", "The innovation and start-up ecosystem", (
         ("Trung tâm Đổi mới sáng tạo Hà Nội đi vào hoạt động", "Open the Hanoi Innovation Centre", "SKHCN", ("STC",),
          P + "Sở Khoa học và Công nghệ", "2025-07-01", "2026-10-31", "Tiến độ", 100, "%", "late"),
         ("Quỹ đầu tư mạo hiểm cho doanh nghiệp khởi nghiệp", "A venture fund for start-ups", "STC", ("SKHCN",),
          P + "Sở Tài chính", "2025-10-01", "2027-06-30", "Vốn quỹ", 1000, "tỷ đồng", "on"),
         ("Hỗ trợ doanh nghiệp khởi nghiệp đổi mới sáng tạo", "Support innovative start-ups", "SKHCN", (),
          P + "Sở Khoa học và Công nghệ", "2025-07-01", "2026-12-31", "Doanh nghiệp được hỗ trợ", 500, "doanh nghiệp",
          "done"),
     )),
    ("N10", "Phát triển khu công nghệ cao, khu công nghệ thông tin tập trung", "High-tech parks and IT zones", (
         ("Thu hút dự án công nghệ cao vào Khu công nghệ cao Hòa Lạc", "Attract high-tech projects to Hoa Lac", "BQLKCN",
          ("SKHCN",), "Trưởng Ban Quản lý", "2025-07-01", "2027-12-31", "Dự án được cấp phép", 40, "dự án", "on"),
         ("Hoàn thiện hạ tầng khu công nghệ thông tin tập trung", "Finish the IT zone's infrastructure", "BQLKCN", ("SXD",),
          "Trưởng Ban Quản lý", "2026-01-01", "2027-06-30", "Tiến độ", 100, "%", "risk"),
         ("Quy hoạch khu đổi mới sáng tạo phía Tây", "Plan the western innovation district", "SQHKT", ("BQLKCN",),
          P + "Sở Quy hoạch - Kiến trúc", "2027-01-01", "2027-12-31", "Đồ án được phê duyệt", 1, "đồ án", "new"),
     )),
    ("N11", "Bảo đảm nguồn lực tài chính cho khoa học, công nghệ và chuyển đổi số",
     "Funding for science, technology and digital transformation", (
         ("Bố trí tối thiểu 3 % tổng chi ngân sách cho khoa học, công nghệ và chuyển đổi số",
          "At least 3 % of the budget for science, technology and digital transformation", "STC", (),
          P + "Sở Tài chính", "2025-07-01", "2026-12-31", "Tỷ lệ chi ngân sách", 3, "%", "on"),
         ("Nâng tỷ trọng khoa học, công nghệ và chuyển đổi số trong GRDP",
          "Raise science, technology and digital transformation's share of GRDP", "TKHN", ("SKHCN",),
          "Trưởng Thống kê thành phố", "2025-07-01", "2026-12-31", "stdt_share", None, None, "kpi"),
         ("Cơ chế hợp tác công tư trong đầu tư hạ tầng số", "Public-private partnership for digital infrastructure", "STC",
          ("SKHCN",), P + "Sở Tài chính", "2026-01-01", "2026-11-30", "Văn bản ban hành", 1, "văn bản", "late"),
     )),
    ("N12", "Bảo đảm an toàn, an ninh mạng", "Cyber security", (
         ("Giám sát an toàn thông tin tập trung (SOC) cho hệ thống của thành phố", "Central security monitoring (SOC)",
          "CATP", ("SKHCN",), "Giám đốc Công an thành phố", "2025-07-01", "2026-12-31", "Hệ thống được giám sát", 200,
          "hệ thống", "on"),
         ("Phê duyệt cấp độ an toàn hệ thống thông tin", "Approve information systems' security levels", "SKHCN", (),
          P + "Sở Khoa học và Công nghệ", "2025-07-01", "2026-06-30", "Hệ thống được phê duyệt", 150, "hệ thống",
          "done"),
         ("Diễn tập ứng cứu sự cố an toàn thông tin", "Incident response exercises", "CATP", (),
          "Giám đốc Công an thành phố", "2026-01-01", "2026-12-31", "Cuộc diễn tập", 4, "cuộc", "stale"),
     )),
    ("N13", "Chuyển đổi số trong y tế", "Digital health", (
         ("Bệnh án điện tử tại các bệnh viện thành phố", "Electronic medical records in city hospitals", "SYT", (),
          P + "Sở Y tế", "2025-07-01", "2026-12-31", "Bệnh viện triển khai", 40, "bệnh viện", "risk"),
         ("Sổ sức khỏe điện tử cho người dân", "Electronic health books for residents", "SYT", ("CATP",), P + "Sở Y tế",
          "2025-07-01", "2026-12-31", "Người dân có sổ", 6000000, "người", "on"),
         ("Khám chữa bệnh từ xa tuyến xã", "Telemedicine at commune level", "SYT", ("00376",), P + "Sở Y tế",
          "2026-01-01", "2027-06-30", "Trạm y tế kết nối", 126, "trạm", "on"),
     )),
    ("N14", "Chuyển đổi số trong giáo dục", "Digital education", (
         ("Học bạ số cho học sinh phổ thông", "Digital school records", "SGDDT", (), P + "Sở Giáo dục và Đào tạo",
          "2025-09-01", "2026-08-31", "Trường áp dụng", 2800, "trường", "done"),
         ("Tuyển sinh đầu cấp trực tuyến", "Online school admissions", "SGDDT", (), P + "Sở Giáo dục và Đào tạo",
          "2026-01-01", "2026-07-31", "Tỷ lệ hồ sơ tuyển sinh trực tuyến", 100, "%", "late"),
         ("Kho học liệu số dùng chung", "A shared digital learning library", "SGDDT", ("SKHCN",),
          P + "Sở Giáo dục và Đào tạo", "2025-09-01", "2027-06-30", "Học liệu", 20000, "học liệu", "on"),
     )),
    ("N15", "Đô thị thông minh, quy hoạch và quản lý đô thị trên nền tảng số", "Smart city, digital planning and urban management", (
         ("Trung tâm điều hành đô thị thông minh (IOC)", "The smart city operations centre (IOC)", "SKHCN", ("CATP", "SXD"),
          P + "Sở Khoa học và Công nghệ", "2025-07-01", "2026-12-31", "Tiến độ", 100, "%", "risk"),
         ("Cơ sở dữ liệu quy hoạch số (GIS) công khai", "A public digital planning database (GIS)", "SQHKT", (),
          P + "Sở Quy hoạch - Kiến trúc", "2025-07-01", "2026-12-31", "Đồ án quy hoạch số hóa", 500, "đồ án", "on"),
         ("Cấp phép xây dựng trực tuyến", "Online building permits", "SXD", ("TTPVHCC",), P + "Sở Xây dựng",
          "2025-07-01", "2026-06-30", "Tỷ lệ giấy phép cấp trực tuyến", 80, "%", "late"),
     )),
    ("N16", "Chuyển đổi số trong nông nghiệp và môi trường", "Digital agriculture and environment", (
         ("Truy xuất nguồn gốc nông sản", "Traceability of farm products", "SNNMT", ("SCT",),
          P + "Sở Nông nghiệp và Môi trường", "2025-07-01", "2026-12-31", "Sản phẩm có mã truy xuất", 1500, "sản phẩm",
          "on"),
         ("Quan trắc môi trường tự động", "Automatic environmental monitoring", "SNNMT", (),
          P + "Sở Nông nghiệp và Môi trường", "2025-07-01", "2027-06-30", "Trạm quan trắc", 100, "trạm", "stale"),
         ("Cơ sở dữ liệu đất đai kết nối liên thông", "A connected land database", "SNNMT", ("VPUB",),
          P + "Sở Nông nghiệp và Môi trường", "2025-07-01", "2026-12-31", "Tiến độ", 100, "%", "risk"),
     )),
    ("N17", "Chuyển đổi số trong văn hóa, du lịch", "Digital culture and tourism", (
         ("Số hóa di sản văn hóa, di tích của thủ đô", "Digitise the capital's heritage and monuments", "SVHTT", (),
          P + "Sở Văn hóa và Thể thao", "2025-07-01", "2027-12-31", "Di tích được số hóa", 300, "di tích", "on"),
         ("Thuyết minh tự động tại điểm du lịch", "Automatic audio guides at tourist sites", "SVHTT", ("00070",),
          P + "Sở Văn hóa và Thể thao", "2025-07-01", "2026-06-30", "Điểm du lịch", 50, "điểm", "done"),
         ("Nền tảng du lịch thông minh", "A smart tourism platform", "SVHTT", ("SKHCN",), P + "Sở Văn hóa và Thể thao",
          "2027-01-01", "2027-12-31", "Tiến độ", 100, "%", "new"),
     )),
    ("N18", "Chuyển đổi số ở phường, xã (chính quyền hai cấp)", "Digital transformation in wards and communes (two-tier government)", (
         ("Giải quyết hồ sơ đúng hạn tại Phường Cửa Nam", "On-time settlement in Cua Nam Ward", "00073", (),
          "Chủ tịch UBND phường", "2025-07-01", "2026-12-31", "on_time_rate", None, None, "kpi"),
         ("Tỷ lệ hồ sơ trực tuyến tại Phường Hoàn Kiếm", "Online dossiers in Hoan Kiem Ward", "00070", (),
          "Chủ tịch UBND phường", "2025-07-01", "2026-12-31", "online_share", None, None, "kpi"),
         ("Số hóa hồ sơ lưu trữ của Phường Cửa Nam", "Digitise Cua Nam Ward's archive", "00073", ("SNV",),
          "Chủ tịch UBND phường", "2025-07-01", "2026-12-31", "Hồ sơ lưu trữ được số hóa", 20000, "hồ sơ", "risk"),
         ("Tổ công nghệ số cộng đồng tại Phường Ba Đình", "Community digital teams in Ba Dinh Ward", "00004", (),
          "Chủ tịch UBND phường", "2025-07-01", "2026-09-30", "Tổ dân phố có tổ công nghệ số", 60, "tổ", "late"),
         ("Điểm phục vụ hành chính công vệ tinh tại Xã Sóc Sơn", "A satellite public service point in Soc Son Commune",
          "00376", ("TTPVHCC",), "Chủ tịch UBND xã", "2025-10-01", "2026-12-31", "Tiến độ", 100, "%", "on"),
         ("Ki-ốt tra cứu thủ tục hành chính tại Phường Cửa Nam", "Procedure kiosks in Cua Nam Ward", "00073", (),
          "Chủ tịch UBND phường", "2026-01-01", "2026-10-31", "Ki-ốt lắp đặt", 4, "ki-ốt", "done"),
     )),
    ("N19", "Nâng cao năng suất, hiệu quả quản trị dựa trên khoa học, công nghệ", "Productivity and efficiency through science and technology", (
         ("Nâng tỷ lệ đóng góp của TFP vào tăng trưởng", "Raise TFP's contribution to growth", "TKHN", ("STC",),
          "Trưởng Thống kê thành phố", "2025-07-01", "2026-12-31", "tfp_share", None, None, "kpi"),
         ("Xử lý văn bản, hồ sơ công việc trên môi trường điện tử", "Handle internal documents electronically", "VPUB", (),
          "Chánh Văn phòng UBND thành phố", "2025-07-01", "2026-12-31", "internal_eops", None, None, "kpi"),
         ("Trợ lý ảo hỗ trợ cán bộ giải quyết thủ tục", "A virtual assistant for officials handling procedures", "TTPVHCC",
          ("SKHCN",), P + "Trung tâm Phục vụ hành chính công", "2026-01-01", "2026-12-31", "Tiến độ", 100, "%", "on"),
     )),
    ("N20", "Theo dõi, đánh giá, truyền thông và trách nhiệm người đứng đầu", "Monitoring, evaluation, communication and leaders' accountability", (
         ("Theo dõi kế hoạch trên hệ thống giám sát số theo thời gian thực", "Track the plan on the real-time digital monitoring system",
          "VPUB", ("SKHCN",), "Chánh Văn phòng UBND thành phố", "2025-07-01", "2026-12-31", "task_groups_on_track", None,
          None, "kpi"),
         ("Đánh giá chỉ số hài lòng về sự phục vụ hành chính (SIPAS)", "Measure the SIPAS satisfaction index", "SNV", (),
          P + "Sở Nội vụ", "2025-07-01", "2026-12-31", "sipas", None, None, "kpi"),
         ("Truyền thông về Nghị quyết 57 đến cán bộ và người dân", "Communicate Resolution 57 to officials and residents",
          "SVHTT", ("00073", "00004"), P + "Sở Văn hóa và Thể thao", "2025-07-01", "2026-12-31", "Tin, bài truyền thông",
          1200, "tin bài", "stale"),
     )),
)

DEMO_PLAN_NAME = ("Kế hoạch thực hiện Nghị quyết 57-NQ/TW của Hà Nội (DEMO)",
                  "Hanoi's Resolution 57 implementation plan (DEMO)")
NOTES = ("Đã hoàn thành khảo sát hiện trạng", "Đang triển khai theo kế hoạch", "Đã trình phê duyệt",
         "Vướng mặc bằng, đang tháo gỡ", "Đã nghiệm thu giai đoạn 1")


def rows() -> list[dict]:
    """The demo annex as canonical importer rows (progress histories are added by `seed`)."""
    out = []
    for gcode, gname, gname_en, tasks in GROUPS:
        for i, (name_vi, name_en, lead, co, resp, start, deadline, measure, target, uom, profile) in enumerate(tasks, 1):
            is_kpi = profile == "kpi"
            out.append({"group_code": gcode, "group_name": gname, "group_name_en": gname_en,
                        "task_code": f"{gcode}.{i}", "task_name": name_vi, "task_name_en": name_en,
                        "lead_unit_code": lead, "co_units": list(co), "responsible": resp, "start": D(start),
                        "deadline": D(deadline), "kpi": measure if is_kpi else None,
                        "indicator": None if is_kpi else measure, "target_value": target, "unit_of_measure": uom})
    return out


def _profiles() -> dict[str, str]:
    return {f"{g[0]}.{i}": t[-1] for g in GROUPS for i, t in enumerate(g[3], 1)}


def history(task: dict, profile: str, today: date) -> list[tuple[date, float, str]]:
    """(as_of, percent, note) updates of a reported demo task, so that at `today` it has its profile's status."""
    start, deadline = task["start"], task["deadline"]
    if profile in ("new", "kpi") or today < start:
        return []
    exp = expected_percent(start, deadline, today)
    final, last_day = {"done": (100.0, min(today, deadline) - timedelta(days=10)),
                       "on": (min(99.0, round(exp + 4)), today - timedelta(days=6)),
                       "risk": (max(0.0, round(exp - 22)), today - timedelta(days=9)),
                       "late": (min(85.0, max(40.0, round(exp - 25))), min(today, deadline) - timedelta(days=3)),
                       "stale": (max(0.0, round(expected_percent(start, deadline, today - timedelta(weeks=7)) - 2)),
                                 today - timedelta(weeks=7))}[profile]
    points = [d for d in (last_day - timedelta(weeks=16), last_day - timedelta(weeks=8), last_day) if d >= start]
    out = []
    for k, d in enumerate(points, 1):
        out.append((d, round(final * k / len(points)), NOTES[(len(task["task_code"]) + k) % len(NOTES)]))
    return out


def seed(db, today: date, actor: str = "demo") -> bool:
    """Load the demo plan into an application database that has no plan yet; True when it did."""
    from .models import PlanTask, PlanTaskUpdate
    from .store import ensure_plan, load_plan, upsert

    if load_plan(db) is not None:
        return False
    annex = rows()
    upsert(db, annex, actor=actor, as_of=today, plan_code=DEFAULT_PLAN, plan_name=DEMO_PLAN_NAME, demo=True)
    prof = _profiles()
    from sqlalchemy import select

    with db.session() as s:
        ensure_plan(s, DEFAULT_PLAN, *DEMO_PLAN_NAME, demo=True)
        ids = dict(s.execute(select(PlanTask.code, PlanTask.id)).all())
        for r in annex:
            for as_of, pct, note in history(r, prof[r["task_code"]], today):
                s.add(PlanTaskUpdate(task_id=ids[r["task_code"]], as_of=as_of, percent=pct, note=note, actor=actor))
    return True


def link_demo_accounts(db) -> None:
    """The demo department account acts for the Department of Science and Technology (when it exists)."""
    from access.users import get_user

    from .store import link_account

    if get_user(db, "sokhcn") is not None:
        link_account(db, "SKHCN", "sokhcn", actor="demo")


def seed_for_serve(settings) -> bool:
    """`serve --demo`: the demo plan in the process's application database (once), the demo department
    account linked to its department."""
    import clock
    from access.db import get_appdb

    db = get_appdb(settings)
    done = seed(db, clock.now().date())
    link_demo_accounts(db)
    return done
