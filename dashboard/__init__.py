"""Dash dashboard of the Resolution 57 KPIs: create_app() in dashboard/app.py, pages in dashboard/pages/."""
