"""The implementation plan tracker (issue 12): the city's Resolution 57 plan — 20 task groups, their tasks
with owners, dates and measurable results, and progress updates kept as history — in the application
database. plan.store reads and writes it (every change audited), plan.importer loads annexes (XLSX/CSV),
metrics.plan_status says where each task stands."""

DEFAULT_PLAN = "NQ57-HN"
