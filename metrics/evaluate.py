"""KPI values from measure values: count, ratio (in %), mean, median, and derived formulas over other KPIs.

A zero or missing denominator gives None (N/A), never 0 %.
"""

from __future__ import annotations

import ast

import numpy as np
import pandas as pd

from .registry import Kpi, KpiType, Registry, formula_names


def measures_for(reg: Registry, codes: list[str]) -> list[str]:
    """Every measure the dossier KPIs in `codes` need (derived ones through their inputs)."""
    out: list[str] = []
    for code in dependency_order(reg, codes):
        k = reg.kpis[code]
        if k.type != KpiType.DERIVED:
            for m in k.numerator + k.denominator + k.current_numerator:
                if m not in out:
                    out.append(m)
    return out


def dependency_order(reg: Registry, codes: list[str]) -> list[str]:
    """`codes` plus the KPIs their formulas use, inputs before the KPIs that use them."""
    order: list[str] = []

    def visit(code: str) -> None:
        if code in order:
            return
        k = reg.kpi(code)
        if k.formula:
            plain, base = formula_names(k.formula, code=code)
            for dep in sorted(plain | base):
                visit(dep)
        order.append(code)
    for c in codes:
        visit(c)
    return order


def _sum(cols: dict[str, np.ndarray], names: tuple[str, ...], n: int) -> np.ndarray:
    total = np.zeros(n)
    for c in names:
        total = total + np.nan_to_num(cols[c])
    return total


def measure_arrays(m: pd.DataFrame, names: list[str]) -> dict[str, np.ndarray]:
    """Measure columns as float arrays (None -> NaN), converted once per frame."""
    return {c: pd.to_numeric(m[c], errors="coerce").to_numpy(dtype=float, na_value=np.nan) for c in names}


def dossier_kpi(k: Kpi, cols: dict[str, np.ndarray], is_current: np.ndarray) -> dict[str, np.ndarray]:
    """Value, numerator and denominator of one dossier KPI for every row of the measure columns."""
    n = len(is_current)
    num = _sum(cols, k.numerator, n)
    if k.current_numerator:
        num = np.where(is_current, _sum(cols, k.current_numerator, n), num)
    den = _sum(cols, k.denominator, n) if k.denominator else None
    with np.errstate(divide="ignore", invalid="ignore"):
        if k.type == KpiType.COUNT:
            return {"value": num, "numerator": num, "denominator": np.full(n, np.nan)}
        ok = den > 0
        if k.type == KpiType.RATIO:
            value = np.where(ok, 100.0 * num / np.where(ok, den, 1), np.nan)
        elif k.type == KpiType.MEAN:
            value = np.where(ok, num / np.where(ok, den, 1), np.nan)
        else:  # median: the histogram measure holds it
            return {"value": np.where(ok, cols[k.numerator[0]], np.nan), "numerator": np.full(n, np.nan),
                    "denominator": den}
    return {"value": value, "numerator": num, "denominator": den}


class _Eval(ast.NodeVisitor):
    """Evaluates a registry-validated formula over aligned float arrays of KPI values."""

    def __init__(self, values: dict[str, np.ndarray], baselines: dict[str, np.ndarray]) -> None:
        self.values, self.baselines = values, baselines

    def visit_Expression(self, node):
        return self.visit(node.body)

    def visit_BinOp(self, node):
        a, b = self.visit(node.left), self.visit(node.right)
        with np.errstate(divide="ignore", invalid="ignore"):
            if isinstance(node.op, ast.Add):
                return a + b
            if isinstance(node.op, ast.Sub):
                return a - b
            if isinstance(node.op, ast.Mult):
                return a * b
            return a / b

    def visit_UnaryOp(self, node):
        return -self.visit(node.operand)

    def visit_Constant(self, node):
        return float(node.value)

    def visit_Name(self, node):
        return np.asarray(self.values[node.id], dtype=float)

    def visit_Call(self, node):
        return np.asarray(self.baselines[node.args[0].id], dtype=float)


def evaluate_formula(formula: str, values: dict[str, np.ndarray], baselines: dict[str, np.ndarray]) -> np.ndarray:
    """The formula row by row; a missing input or a division by zero gives NaN (N/A)."""
    n = len(next(iter(values.values())))
    result = np.broadcast_to(np.asarray(_Eval(values, baselines).visit(ast.parse(formula, mode="eval")), dtype=float), (n,))
    return np.where(np.isfinite(result), result, np.nan)
