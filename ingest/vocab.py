"""Fixed value lists of the canonical contract, and the Vietnamese words exports use for them."""

from __future__ import annotations

CHANNELS = ("online_full", "online_partial", "in_person", "postal")
STATUSES = (
    "received", "processing", "supplement_requested", "completed", "returned", "rejected", "withdrawn",
)
# A dossier is finished at the first of completed / returned / rejected (docs/domain.md §4).
FINISHED_STATUSES = ("completed", "returned", "rejected")
OPEN_STATUSES = ("received", "processing", "supplement_requested")
APPLICANT_TYPES = ("citizen", "business")

# Status words seen in một cửa systems and the national sync (docs/domain.md §7), for every profile.
STATUS_WORDS = {
    "Mới tiếp nhận": "received",
    "Tiếp nhận": "received",
    "Đang xử lý": "processing",
    "Đang giải quyết": "processing",
    "Yêu cầu bổ sung hồ sơ": "supplement_requested",
    "Chờ bổ sung": "supplement_requested",
    "Đã xử lý xong": "completed",
    "Hoàn thành": "completed",
    "Đã trả kết quả": "returned",
    "Từ chối": "rejected",
    "Dừng xử lý": "rejected",
    "Công dân yêu cầu rút hồ sơ": "withdrawn",
    "Rút hồ sơ": "withdrawn",
}

TRUE_WORDS = ("1", "true", "t", "yes", "y", "có", "x", "đã", "đúng")
FALSE_WORDS = ("0", "false", "f", "no", "n", "không", "chưa", "sai")

# Date formats tried in order after ISO 8601; exports use local dd/mm/yyyy (docs/domain.md §7).
DATE_FORMATS = (
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)
