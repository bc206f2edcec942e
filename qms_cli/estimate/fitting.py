"""Small least-squares fits (a handful of unknowns, tens of points): no numerical library needed."""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Callable


def nnls(rows: list[list[float]], targets: list[float], required: tuple[int, ...] = ()) -> list[float]:
    """Least squares with non-negative coefficients, for a handful of unknowns: the best of the exact
    solutions over every subset of active unknowns (2^k systems, k <= 4). `required`: unknowns the physics
    says are there (a step's time grows with its matrix products); a solution that keeps more of them is
    preferred to one with a smaller error, so none is zeroed where a fit with it exists."""
    k = len(rows[0])
    best: tuple[int, float, list[float]] = (-1, math.inf, [0.0] * k)
    for size in range(1, k + 1):
        for active in itertools.combinations(range(k), size):
            coef = _lstsq([[r[i] for i in active] for r in rows], targets)
            if coef is None or any(c < 0 for c in coef):
                continue
            full = [0.0] * k
            for i, c in zip(active, coef, strict=True):
                full[i] = c
            kept = sum(1 for i in required if full[i] > 0)
            err = sum((_dot(r, full) - t) ** 2 for r, t in zip(rows, targets, strict=True))
            if kept > best[0] or (kept == best[0] and err < best[1] - 1e-18):
                best = (kept, err, full)
    return best[2]


def squared_error(rows: list[list[float]], targets: list[float], coef: list[float]) -> float:
    return sum((_dot(r, coef) - t) ** 2 for r, t in zip(rows, targets, strict=True))


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


def nnls_columns(rows: list[list[float]], targets: list[float], columns: tuple[int, ...],
                 required: tuple[int, ...] = ()) -> list[float]:
    """`nnls` on some of the columns; the others' coefficients are 0."""
    coef = nnls([[r[i] for i in columns] for r in rows], targets, tuple(columns.index(i) for i in required
                                                                      if i in columns))
    full = [0.0] * len(rows[0])
    for i, c in zip(columns, coef, strict=True):
        full[i] = c
    return full


def held_out_score(rows: list[list[float]], targets: list[float], groups: list[float], columns: tuple[int, ...],
                   required: tuple[int, ...] = ()) -> float:
    """How well a fit on `columns` to the rows of every group but the largest predicts the largest: the mean
    absolute residual over its rows (rows scaled by a time: the residual is a relative error)."""
    top = max(groups)
    train = [(r, t) for r, t, g in zip(rows, targets, groups, strict=True) if g != top]
    test = [(r, t) for r, t, g in zip(rows, targets, groups, strict=True) if g == top]
    if not train or not test:
        return math.inf
    coef = nnls_columns([r for r, _ in train], [t for _, t in train], columns, required)
    return sum(abs(_dot(r, coef) - t) for r, t in test) / len(test)


Solver = Callable[[list[list[float]], list[float]], list[float]]
TUKEY = 4.685  # a measurement this many times the others' scatter from the fit counts for nothing (bisquare)
ROUNDS = 8


def relative_rows(x: list[list[float]], measured: list[float],
                  solve: Solver) -> tuple[list[list[float]], list[float]]:
    """The rows and targets of a fit of x.c to the measured times in relative terms, made robust to timing
    noise with `solve` (the fullest model: a term dropped too early would leave residuals that hide it). Each
    row is scaled by a time: first the measured one, then the fitted one (dividing by a noisy measurement favours
    the fast ones: 30% noise would pull every estimate down by a third), and a measurement far from the fit for
    the others' scatter (median absolute deviation) counts for less, TUKEY times as far for nothing (bisquare
    weights) -- a run slowed by other work on the machine does not bend the fit."""
    scale, weight = list(measured), [1.0] * len(x)
    for _ in range(ROUNDS):
        rows, targets = _scaled(x, measured, scale, weight)
        coef = solve(rows, targets)
        pred = [_dot(row, coef) for row in x]
        if any(p <= 0 for p in pred):
            break
        scale = pred
        resid = [abs(m - p) / p for m, p in zip(measured, pred, strict=True)]
        sigma = 1.4826 * statistics.median(resid)
        weight = [max(0.0, 1 - (e / (TUKEY * sigma)) ** 2) ** 2 if sigma > 0 else 1.0 for e in resid]
    return _scaled(x, measured, scale, weight)


def _scaled(x: list[list[float]], measured: list[float], scale: list[float],
            weight: list[float]) -> tuple[list[list[float]], list[float]]:
    root = [math.sqrt(w) for w in weight]
    return ([[v * r / s for v in row] for row, s, r in zip(x, scale, root, strict=True)],
            [m * r / s for m, s, r in zip(measured, scale, root, strict=True)])
