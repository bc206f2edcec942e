"""Small least-squares fits (a handful of unknowns, tens of points): no numerical library needed."""

from __future__ import annotations

import itertools
import math


def nnls(rows: list[list[float]], targets: list[float]) -> list[float]:
    """Least squares with non-negative coefficients, for a handful of unknowns: the best of the exact
    solutions over every subset of active unknowns (2^k systems, k <= 4)."""
    k = len(rows[0])
    best: tuple[float, list[float]] = (math.inf, [0.0] * k)
    for size in range(1, k + 1):
        for active in itertools.combinations(range(k), size):
            coef = _lstsq([[r[i] for i in active] for r in rows], targets)
            if coef is None or any(c < 0 for c in coef):
                continue
            full = [0.0] * k
            for i, c in zip(active, coef, strict=True):
                full[i] = c
            err = sum((_dot(r, full) - t) ** 2 for r, t in zip(rows, targets, strict=True))
            if err < best[0] - 1e-18:
                best = (err, full)
    return best[1]


def _dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def _lstsq(rows: list[list[float]], targets: list[float]) -> list[float] | None:
    """Normal equations solved by Gaussian elimination with partial pivoting; None when singular."""
    k = len(rows[0])
    a = [[sum(r[i] * r[j] for r in rows) for j in range(k)]
         + [sum(r[i] * t for r, t in zip(rows, targets, strict=True))] for i in range(k)]
    for col in range(k):
        pivot = max(range(col, k), key=lambda i: abs(a[i][col]))
        if abs(a[pivot][col]) < 1e-300:
            return None
        a[col], a[pivot] = a[pivot], a[col]
        for i in range(k):
            if i != col:
                f = a[i][col] / a[col][col]
                a[i] = [x - f * y for x, y in zip(a[i], a[col], strict=True)]
    return [a[i][k] / a[i][i] for i in range(k)]
