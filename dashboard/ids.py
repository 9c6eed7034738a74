"""Component ids, one place, prefixed per page (STYLE.md: ids in dashboard/ids.py)."""

# --- shell (dashboard/app.py) ---------------------------------------------------------------------
LANG = "shell-lang"                  # dcc.Store(storage_type='local'): 'vi' | 'en'
LANG_SWITCH = "shell-lang-switch"
TICK = "shell-tick"                  # the shared dcc.Interval
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
OV_TODAY = "ov-today"                # "received today" figure: the e2e live test watches it

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

# --- economy & infrastructure ---------------------------------------------------------------------
EC_TITLE = "ec-title"
EC_CARDS = "ec-cards"
EC_SERIES = "ec-series"
EC_5G_TITLE = "ec-5g-title"
EC_5G = "ec-5g"

# --- data health ----------------------------------------------------------------------------------
DH_TITLE = "dh-title"
DH_FRESHNESS = "dh-freshness"
DH_RUNS_TITLE = "dh-runs-title"
DH_RUNS = "dh-runs"
DH_REASONS_TITLE = "dh-reasons-title"
DH_REASONS = "dh-reasons"
DH_QUARANTINE_TITLE = "dh-quarantine-title"
DH_QUARANTINE = "dh-quarantine"
