"""Implementation plan tracker (issue 12): plans, their task groups, tasks, progress updates (history) and the
accounts that act for a city department.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from access.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name_vi", sa.String(500), nullable=False),
        sa.Column("name_en", sa.String(500)),
        sa.Column("demo", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_plans"),
        sa.UniqueConstraint("code", name="uq_plans_code"),
    )
    op.create_table(
        "plan_groups",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plan_id", sa.Integer, nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name_vi", sa.String(500), nullable=False),
        sa.Column("name_en", sa.String(500)),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name="pk_plan_groups"),
        sa.UniqueConstraint("plan_id", "code", name="uq_plan_groups_plan_id_code"),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], ondelete="CASCADE", name="fk_plan_groups_plan_id_plans"),
    )
    op.create_index("ix_plan_groups_plan_id", "plan_groups", ["plan_id"])
    op.create_table(
        "plan_tasks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("plan_id", sa.Integer, nullable=False),
        sa.Column("group_id", sa.Integer, nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name_vi", sa.String(1000), nullable=False),
        sa.Column("name_en", sa.String(1000)),
        sa.Column("lead_unit_code", sa.String(16), nullable=False),
        sa.Column("co_units", sa.JSON, nullable=False),
        sa.Column("responsible", sa.String(255)),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("deadline", sa.Date, nullable=False),
        sa.Column("kpi", sa.String(64)),
        sa.Column("indicator", sa.String(500)),
        sa.Column("target_value", sa.Float),
        sa.Column("unit_of_measure", sa.String(64)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_plan_tasks"),
        sa.UniqueConstraint("plan_id", "code", name="uq_plan_tasks_plan_id_code"),
        sa.CheckConstraint("deadline >= start_date", name="ck_plan_tasks_dates"),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], ondelete="CASCADE", name="fk_plan_tasks_plan_id_plans"),
        sa.ForeignKeyConstraint(["group_id"], ["plan_groups.id"], ondelete="CASCADE",
                                name="fk_plan_tasks_group_id_plan_groups"),
    )
    op.create_index("ix_plan_tasks_plan_id", "plan_tasks", ["plan_id"])
    op.create_index("ix_plan_tasks_group_id", "plan_tasks", ["group_id"])
    op.create_index("ix_plan_tasks_lead_unit_code", "plan_tasks", ["lead_unit_code"])
    op.create_table(
        "plan_task_updates",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("task_id", sa.Integer, nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("percent", sa.Float),
        sa.Column("value", sa.Float),
        sa.Column("note", sa.String(500)),
        sa.Column("evidence_url", sa.String(1000)),
        sa.Column("user_id", sa.Integer),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_plan_task_updates"),
        sa.CheckConstraint("percent IS NULL OR (percent >= 0 AND percent <= 100)",
                           name="ck_plan_task_updates_percent"),
        sa.ForeignKeyConstraint(["task_id"], ["plan_tasks.id"], ondelete="CASCADE",
                                name="fk_plan_task_updates_task_id_plan_tasks"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL",
                                name="fk_plan_task_updates_user_id_users"),
    )
    op.create_index("ix_plan_task_updates_task_id_as_of", "plan_task_updates", ["task_id", "as_of"])
    op.create_table(
        "plan_unit_accounts",
        sa.Column("unit_code", sa.String(16), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("note", sa.Text),
        sa.PrimaryKeyConstraint("unit_code", "user_id", name="pk_plan_unit_accounts"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_plan_unit_accounts_user_id_users"),
    )


def downgrade() -> None:
    for table in ("plan_unit_accounts", "plan_task_updates", "plan_tasks", "plan_groups", "plans"):
        op.drop_table(table)
