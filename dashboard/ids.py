"""Component ids, one place, prefixed per page."""

# --- shell (dashboard/app.py) ---------------------------------------------------------------------
LANG = "shell-lang"                  # dcc.Store(storage_type='local'): 'vi' | 'en'
LANG_SWITCH = "shell-lang-switch"
TICK = "shell-tick"                  # the shared dcc.Interval
POLL = "shell-poll"                  # dcc.Interval asking /_r57/version (a 304 when nothing changed)
LIVE = "shell-live"                  # dcc.Store: the event stream's address (dashboard.live), or None
LIVE_SINK = "shell-live-sink"        # its clientside callback's unused output
VERSION = "shell-version"            # dcc.Store: snapshot name (+ hour); pages refresh when it changes
FRESHNESS = "shell-freshness"
BANNERS = "shell-banners"
NAV = "shell-nav"
NAV_LINKS = "shell-nav-links"
BRAND = "shell-brand"
SKIP = "shell-skip"
URL_SINK = "shell-url-sink"
URL_STATE = "url-state"              # pattern id type: {"type": URL_STATE, "page": <page>}
MAIN = "main-content"
IMAGE_SINK = "shell-image-sink"      # dcc.Store: the chart the browser sent last (figure on screen, title, size)
IMAGE_DOWNLOAD = "shell-image-download"  # dcc.Download: that chart as PNG or SVG, made on the server

# --- downloads (every page; dashboard/downloads.py) -------------------------------------------------
DL = "dl"                            # menu item, a table's file: {"type": DL, "page": <page>, "table": <key>, "fmt": csv|xlsx|parquet}
DL_IMAGE = "dl-image"                # menu item, a chart's image: {"type": DL_IMAGE, "graph": <graph id>, "fmt": png|svg}
DL_MENU = "dl-menu"                  # the "Tải về" dropdown: {"type": DL_MENU, "page": <page>, "name": <table or graph>}
DL_DATA = "dl-data"                  # dcc.Store of an HTML table's rows: {"type": DL_DATA, "page": <page>, "table": <key>}

# --- overview -------------------------------------------------------------------------------------
OV_TITLE = "ov-title"
OV_CARDS = "ov-cards"
OV_RANK_TITLE = "ov-rank-title"
OV_RANK_KPI = "ov-rank-kpi"
OV_RANK_KPI_LABEL = "ov-rank-kpi-label"
OV_RANK_VIEW = "ov-rank-view"
OV_RANK = "ov-rank"
OV_CHANGES_TITLE = "ov-changes-title"
OV_CHANGES = "ov-changes"
OV_TODAY = "ov-today"                # "received today so far" (partial, never compared): the e2e live test watches it
OV_YESTERDAY = "ov-yesterday"        # dossiers received yesterday (compared with the day before)
OV_COMPARE = "ov-compare"            # statuses and rates: the last complete month against the month before
OV_DOWNLOAD = "ov-download"          # dcc.Download of the page's tables
OV_WORKLOAD = "ov-workload"   # issue 12: the one-stop overload line


def shown(output_id: str) -> str:
    """The dcc.Store holding the fingerprint of what a callback last drew into `output_id` (callbacks.redraw)."""
    return f"{output_id}-shown"

# --- wards ----------------------------------------------------------------------------------------
WD_TITLE = "wd-title"
WD_PERIOD = "wd-period"
WD_PERIOD_LABEL = "wd-period-label"
WD_TYPE = "wd-type"
WD_TYPE_LABEL = "wd-type-label"
WD_SEARCH = "wd-search"
WD_SEARCH_LABEL = "wd-search-label"
WD_GRID = "wd-grid"
WD_NOTE = "wd-note"
WD_NAV = "wd-nav"
WD_EXPORT = "wd-export"
WD_DOWNLOAD = "wd-download"

# --- ward detail ----------------------------------------------------------------------------------
WU_TITLE = "wu-title"
WU_UNIT = "wu-unit"
WU_UNIT_LABEL = "wu-unit-label"
WU_PERIOD = "wu-period"
WU_PERIOD_LABEL = "wu-period-label"
WU_KPIS = "wu-kpis"
WU_TREND_KPI = "wu-trend-kpi"
WU_TREND = "wu-trend"
WU_PROCS = "wu-procs"
WU_CHANNELS = "wu-channels"
WU_INDEX = "wu-index"
WU_OVERDUE = "wu-overdue"
WU_OVERDUE_TITLE = "wu-overdue-title"
WU_OVERDUE_GRID = "wu-overdue-grid"
WU_SECTION_TITLES = "wu-section-titles"
WU_DOWNLOAD = "wu-download"
# the action lists (issue 11): due soon beside overdue, one procedure filter for both
WU_DUE = "wu-due"
WU_DUE_TITLE = "wu-due-title"
WU_DUE_GRID = "wu-due-grid"
WU_DUE_NOTE = "wu-due-note"
WU_OVERDUE_NOTE = "wu-overdue-note"
WU_PROC_FILTER = "wu-proc-filter"    # dcc.Dropdown: a procedure code or None (a click in the procedures grid sets it)
WU_PROC_FILTER_LABEL = "wu-proc-filter-label"
WU_PROC_CLEAR = "wu-proc-clear"      # "Bỏ lọc / Clear filter"
WU_PROC_HINT = "wu-proc-hint"

# --- dossier detail (/dossier?id=) ------------------------------------------------------------------
DO_ID = "do-id"                      # dcc.Store: the dossier id from the address
DO_TITLE = "do-title"
DO_BODY = "do-body"

# --- alerts (/alerts) --------------------------------------------------------------------------------
BELL = "shell-bell"                  # the header's bell: a link to /alerts with the unread count
BELL_COUNT = "shell-bell-count"      # its badge
AL_TITLE = "al-title"
AL_NOTIFS_TITLE = "al-notifs-title"
AL_NOTIFS = "al-notifs"
AL_MARK_READ = "al-mark-read"
AL_RULES_TITLE = "al-rules-title"
AL_RULES = "al-rules"                # grid of the user's rules
AL_REMOVE = "al-remove"              # "Xóa quy tắc đã chọn / Remove the selected rule"
AL_FORM_TITLE = "al-form-title"
AL_RULE = "al-rule"
AL_RULE_LABEL = "al-rule-label"
AL_UNIT = "al-unit"
AL_UNIT_LABEL = "al-unit-label"
AL_KPI = "al-kpi"
AL_KPI_LABEL = "al-kpi-label"
AL_THRESHOLD = "al-threshold"
AL_THRESHOLD_LABEL = "al-threshold-label"
AL_DAYS = "al-days"
AL_DAYS_LABEL = "al-days-label"
AL_CHANNEL = "al-channel"
AL_CHANNEL_LABEL = "al-channel-label"
AL_TARGET = "al-target"              # e-mail address or webhook URL of the channel
AL_TARGET_LABEL = "al-target-label"
AL_ADD = "al-add"
AL_MESSAGE = "al-message"            # what the last add/remove did, or why it was refused
BELL_BUMP = "shell-bell-bump"        # dcc.Store in the shell: bumped by the alerts page (mark read, add, remove)
AL_LOG_TITLE = "al-log-title"
AL_LOG = "al-log"                    # grid of deliveries

# --- KPI detail -----------------------------------------------------------------------------------
KP_KPI = "kp-kpi"
KP_KPI_LABEL = "kp-kpi-label"
KP_UNIT = "kp-unit"
KP_UNIT_LABEL = "kp-unit-label"
KP_GRAIN = "kp-grain"
KP_GRAIN_LABEL = "kp-grain-label"
KP_HEADER = "kp-header"
KP_TREND = "kp-trend"
KP_TREND_TITLE = "kp-trend-title"
KP_UNITS = "kp-units"
KP_UNITS_TITLE = "kp-units-title"
KP_UNITS_BOX = "kp-units-box"
KP_DEFINITION = "kp-definition"
KP_NAV = "kp-nav"
KP_DOWNLOAD = "kp-download"

# --- economy & infrastructure ---------------------------------------------------------------------
EC_TITLE = "ec-title"
EC_CARDS = "ec-cards"
EC_SERIES = "ec-series"
EC_5G_TITLE = "ec-5g-title"
EC_5G = "ec-5g"
EC_5G_GRAPH = "ec-5g-graph"
EC_DOWNLOAD = "ec-download"

# --- data health ----------------------------------------------------------------------------------
DH_TITLE = "dh-title"
DH_FRESHNESS = "dh-freshness"
DH_RUNS_TITLE = "dh-runs-title"
DH_RUNS = "dh-runs"
DH_REASONS_TITLE = "dh-reasons-title"
DH_REASONS = "dh-reasons"
DH_QUARANTINE_TITLE = "dh-quarantine-title"
DH_QUARANTINE = "dh-quarantine"
DH_DOWNLOAD = "dh-download"

# --- reports ----------------------------------------------------------------------------------------
RP_TITLE = "rp-title"
RP_FORM_TITLE = "rp-form-title"
RP_MONTH = "rp-month"
RP_MONTH_LABEL = "rp-month-label"
RP_UNIT = "rp-unit"
RP_UNIT_LABEL = "rp-unit-label"
RP_LANG = "rp-lang"
RP_LANG_LABEL = "rp-lang-label"
RP_MAKE = "rp-make"
RP_MESSAGE = "rp-message"
RP_STARTED = "rp-started"            # dcc.Store: the report asked for last ({"id": ..., "at": ...})
RP_LIST_TITLE = "rp-list-title"
RP_LIST = "rp-list"                  # the grid of generated reports
RP_EMPTY = "rp-empty"
RP_SCHEDULE = "rp-schedule"
RP_TICK = "rp-tick"                  # dcc.Interval, enabled while a report is being made
RP_DOWNLOAD = "rp-download"
