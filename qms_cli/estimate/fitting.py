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


def nnls_columns(rows: list[list[float]], targets: list[float], columns: tuple[int, ...]) -> list[float]:
    """`nnls` on some of the columns; the others' coefficients are 0."""
    coef = nnls([[r[i] for i in columns] for r in rows], targets)
    full = [0.0] * len(rows[0])
    for i, c in zip(columns, coef, strict=True):
        full[i] = c
    return full


def held_out_score(rows: list[list[float]], groups: list[float], columns: tuple[int, ...]) -> float:
    """How well a fit on `columns` to the rows of every group but the largest predicts the largest: the mean
    absolute residual over its rows (rows scaled so that each target is 1: the residual is a relative error)."""
    top = max(groups)
    train = [r for r, g in zip(rows, groups, strict=True) if g != top]
    test = [r for r, g in zip(rows, groups, strict=True) if g == top]
    if not train or not test:
        return math.inf
    coef = nnls_columns(train, [1.0] * len(train), columns)
    return sum(abs(_dot(r, coef) - 1.0) for r in test) / len(test)
