"""Tables of the implementation plan tracker (issue 12) in the application database, on access.models' Base
(one metadata, one Alembic history: access/migrations/versions/0003_plan.py makes them). Times in UTC.

plan -> 20 task groups -> tasks -> updates (history, never rewritten). A task's measurable result is either a
KPI of the registry (`kpi`: its status then comes from the metrics) or a reported indicator (`unit_of_measure`,
`target_value`, progress reported as percent done). No personal data: an update records who made it by the
account's id (and the actor name of the audit log), never a citizen's data.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from access.models import Base, utcnow


class Plan(Base):
    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_vi: Mapped[str] = mapped_column(String(500))
    name_en: Mapped[str | None] = mapped_column(String(500))
    demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    groups: Mapped[list[PlanGroup]] = relationship(cascade="all, delete-orphan", order_by="PlanGroup.position")


class PlanGroup(Base):
    __tablename__ = "plan_groups"
    __table_args__ = (UniqueConstraint("plan_id", "code", name="uq_plan_groups_plan_id_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name_vi: Mapped[str] = mapped_column(String(500))
    name_en: Mapped[str | None] = mapped_column(String(500))
    position: Mapped[int] = mapped_column(Integer, default=0)


class PlanTask(Base):
    __tablename__ = "plan_tasks"
    __table_args__ = (
        UniqueConstraint("plan_id", "code", name="uq_plan_tasks_plan_id_code"),
        CheckConstraint("deadline >= start_date", name="ck_plan_tasks_dates"),
        Index("ix_plan_tasks_lead_unit_code", "lead_unit_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("plan_groups.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name_vi: Mapped[str] = mapped_column(String(1000))
    name_en: Mapped[str | None] = mapped_column(String(1000))
    lead_unit_code: Mapped[str] = mapped_column(String(16))          # a ward's code or a department's (plan/units)
    co_units: Mapped[list] = mapped_column(JSON, default=list)        # codes of the co-operating units
    responsible: Mapped[str | None] = mapped_column(String(255))      # a position: "Giám đốc Sở …"
    start_date: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    kpi: Mapped[str | None] = mapped_column(String(64))               # linked KPI of the registry, or None
    indicator: Mapped[str | None] = mapped_column(String(500))        # a reported indicator's name (no KPI)
    target_value: Mapped[float | None] = mapped_column(Float)
    unit_of_measure: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    group: Mapped[PlanGroup] = relationship(lazy="joined")


class PlanTaskUpdate(Base):
    """One progress report on a task, kept as history (a later report never rewrites an earlier one)."""

    __tablename__ = "plan_task_updates"
    __table_args__ = (
        CheckConstraint("percent IS NULL OR (percent >= 0 AND percent <= 100)", name="ck_plan_task_updates_percent"),
        Index("ix_plan_task_updates_task_id_as_of", "task_id", "as_of"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("plan_tasks.id", ondelete="CASCADE"))
    as_of: Mapped[date] = mapped_column(Date)                      # the day the progress is reported for
    percent: Mapped[float | None] = mapped_column(Float)           # percent done (reported tasks)
    value: Mapped[float | None] = mapped_column(Float)             # the indicator's value, in its unit of measure
    note: Mapped[str | None] = mapped_column(String(500))
    evidence_url: Mapped[str | None] = mapped_column(String(1000))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(128))                # the account name, or cli:/import: for the system
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PlanUnitAccount(Base):
    """Which accounts act for a city department in the plan (departments are not warehouse units, so their
    ownership cannot come from an account's unit list; a ward's tasks are owned through the account's units)."""

    __tablename__ = "plan_unit_accounts"

    unit_code: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)
