"""The city report's plan section (issue 12): the 20 task groups and the late and at-risk tasks, as the plan
stood at the month's end, the same in the PDF and the Excel file, judged by the plan page's rules."""

from __future__ import annotations

import subprocess
from datetime import date, datetime

import openpyxl
import pytest

from access.db import open_appdb
from access.viewer import DEV
from metrics import plan_status as ps
from plan import demo as plan_demo
from plan import store
from reports import build_report
from reports.data import collect

from .conftest import REPORT_NOW

MONTH = "2026-10"
JUDGED_DAY = date(2026, 11, 1)


@pytest.fixture(scope="module")
def plan_db(tmp_path_factory):
    db = open_appdb(f"sqlite:///{tmp_path_factory.mktemp('plan-report') / 'app.db'}")
    assert plan_demo.seed(db, today=date(2026, 10, 20))
    return db


def _reported_task(plan: dict) -> dict:
    """A task measured by reported progress (not linked to a KPI), not done."""
    return next(x for x in plan["tasks"] if not x.get("kpi") and (x.get("percent") or 0) < 100)


def test_plan_section_in_pdf_and_excel_as_at_the_months_end(report_warehouse, plan_db, tmp_path) -> None:
    _, reader = report_warehouse
    task = _reported_task(store.load_plan(plan_db))
    # reported for 2 November: after October's end, so October's report must not see it
    store.add_update(plan_db, task["code"], DEV, percent=100, note="xong", as_of=date(2026, 11, 2))
    plan = store.load_plan(plan_db, before=JUDGED_DAY)
    mine = next(x for x in plan["tasks"] if x["code"] == task["code"])
    assert mine["percent"] != 100

    data = collect(reader.cursor(), MONTH, now=REPORT_NOW, plan=plan)
    assert data.plan_groups is not None and len(data.plan_groups.rows) == 20
    # the section's statuses are metrics.plan_status's at J, worst first (an independent evaluation)
    ev = ps.evaluate_plan(reader.cursor(), plan, datetime(2026, 11, 1))
    expected = sorted((x for x in ev["tasks"] if x["status"] in ("late", "at_risk")),
                      key=lambda x: (ps.severity(x["status"]), x["deadline"], x["code"]))
    assert [r["code"] for r in data.plan_tasks.rows] == [x["code"] for x in expected]
    assert sum(r["tasks"] for r in data.plan_groups.rows) == len(plan["tasks"])
    # the later update makes the task done now, but not in October's report
    after = ps.evaluate_plan(reader.cursor(), store.load_plan(plan_db), datetime(2026, 11, 3))
    assert next(x for x in after["tasks"] if x["code"] == task["code"])["status"] == "done"
    assert next(x for x in ev["tasks"] if x["code"] == task["code"])["status"] != "done"

    pdf, xlsx = build_report(reader.cursor(), MONTH, tmp_path, now=REPORT_NOW, charts=False, plan=plan)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Kế hoạch thực hiện Nghị quyết 57" in text and "20 nhóm nhiệm vụ" in text
    assert "DỮ LIỆU DEMO" in text  # the demo plan says so
    wb = openpyxl.load_workbook(xlsx)
    assert "Kế hoạch NQ57" in wb.sheetnames and "Nhiệm vụ cần chú ý" in wb.sheetnames
    codes = [c.value for row in wb["Kế hoạch NQ57"].iter_rows() for c in row[:1]]
    assert sum(1 for c in codes if isinstance(c, str) and c in {r["code"] for r in data.plan_groups.rows}) == 20
    for r in data.plan_tasks.rows[:3]:  # the first tasks of the attention list are in the PDF too
        assert r["code"] in text


def test_ward_reports_have_no_plan_section_and_no_plan_means_none(report_warehouse, plan_db) -> None:
    _, reader = report_warehouse
    plan = store.load_plan(plan_db, before=JUDGED_DAY)
    assert collect(reader.cursor(), MONTH, unit_code="00073", now=REPORT_NOW, plan=plan).plan_groups is None
    assert collect(reader.cursor(), MONTH, now=REPORT_NOW).plan_groups is None
