"""Registry validation: a bad definition fails at start-up naming the file, the entry and the expected form."""

from __future__ import annotations

import shutil

import pytest

from metrics.registry import DEFINITIONS_DIR, RegistryError, get_registry, load_registry


@pytest.fixture
def defs(tmp_path):
    for f in ("kpis.yaml", "targets.yaml", "index766.yaml"):
        shutil.copy(DEFINITIONS_DIR / f, tmp_path / f)
    return tmp_path


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_shipped_registry_is_valid():
    reg = get_registry()
    assert len(reg.kpis) >= 20 and reg.kpis["on_time_rate"].legal_basis.startswith("Quyết định 766")
    assert sum(g.points for g in reg.index766.groups) == 100


def test_not_yaml(defs):
    (defs / "kpis.yaml").write_text("kpis: [unclosed", encoding="utf-8")
    with pytest.raises(RegistryError, match=r"kpis.yaml: not valid YAML"):
        load_registry(defs)


def test_bad_direction(defs):
    edit(defs / "kpis.yaml", "    direction: higher\n    legal_basis: DOMAIN.md §4\n    tags: [dossiers]\n\n  on_time_rate:",
         "    direction: up\n    legal_basis: DOMAIN.md §4\n    tags: [dossiers]\n\n  on_time_rate:")
    with pytest.raises(RegistryError, match=r"kpis.yaml: KPI 'received': direction: Input should be 'higher' or 'lower'"):
        load_registry(defs)


def test_missing_field(defs):
    edit(defs / "kpis.yaml", "    name_en: Dossiers received\n", "")
    with pytest.raises(RegistryError, match=r"kpis.yaml: KPI 'received': name_en: Field required"):
        load_registry(defs)


def test_unknown_measure(defs):
    edit(defs / "kpis.yaml", "numerator: [online]", "numerator: [onlin]")
    with pytest.raises(RegistryError, match=r"KPI 'online_share': numerator names measure 'onlin'"):
        load_registry(defs)


def test_measure_name_must_be_a_plain_code(defs):
    edit(defs / "kpis.yaml", "  in_person:\n", "  in-person:\n")
    with pytest.raises(RegistryError, match=r"in-person.*plain code"):
        load_registry(defs)


def test_ratio_without_denominator(defs):
    edit(defs / "kpis.yaml", "    numerator: [online_full]\n    denominator: [received]\n", "    numerator: [online_full]\n")
    with pytest.raises(RegistryError, match=r"KPI 'full_online_share': a ratio KPI needs denominator"):
        load_registry(defs)


def test_formula_with_unknown_kpi_or_code(defs):
    edit(defs / "kpis.yaml", '"100 - ((100 - on_time_rate) + complaint_rate)"', '"100 - on_time_ratio"')
    with pytest.raises(RegistryError, match=r"KPI 'satisfaction_766': formula uses 'on_time_ratio'"):
        load_registry(defs)
    edit(defs / "kpis.yaml", '"100 - on_time_ratio"', '"__import__(\'os\')"')
    with pytest.raises(RegistryError, match=r"only numbers, KPI codes"):
        load_registry(defs)


def test_stock_without_condition(defs):
    edit(defs / "kpis.yaml", '    at: "received_at < {T} AND (completed_at IS NULL OR completed_at >= {T}) AND NOT '
         '(status = \'withdrawn\' AND completed_at IS NULL)"\n', "")
    with pytest.raises(RegistryError, match=r"measure 'in_flight': a stock measure needs `at`"):
        load_registry(defs)


def test_bad_target(defs):
    edit(defs / "targets.yaml", 'comparison: ">="', 'comparison: ">"')
    with pytest.raises(RegistryError, match=r"targets.yaml: target #1 \(KPI 'service_coverage_full'\): comparison"):
        load_registry(defs)


def test_target_for_unknown_kpi_and_bad_baseline(defs):
    edit(defs / "targets.yaml", "  - kpi: service_coverage_online", "  - kpi: coverage_online")
    with pytest.raises(RegistryError, match=r"target #2: KPI 'coverage_online' is not in kpis.yaml"):
        load_registry(defs)
    edit(defs / "targets.yaml", "  - kpi: coverage_online", "  - kpi: service_coverage_online")
    edit(defs / "targets.yaml", "    baseline: {period: 2025-Q3}", "    baseline: {period: Q3-2025}")
    with pytest.raises(RegistryError, match=r"baseline.*is not a label"):
        load_registry(defs)


def test_index_points_must_add_up(defs):
    edit(defs / "index766.yaml", "{kpi: data_reuse, threshold: 80, max_points: 11}",
         "{kpi: data_reuse, threshold: 80, max_points: 10}")
    with pytest.raises(RegistryError, match=r"index766.yaml: group 4: components' max_points add up to 21"):
        load_registry(defs)
