"""An attacker's view of a suppressed table, written independently of the suppression
code: which hidden figures do the published ones and the table's sums pin down?

Each sum `total = parts` is a linear equation; the unknowns are the hidden figures. A
figure is recoverable exactly when every solution of the homogeneous system gives it 0,
i.e. when it is 0 in every vector of the null space. The null space comes from a dense
reduced row echelon form over the rationals.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from fractions import Fraction
from typing import Any

from core.insights.suppression import Cell, Sum


def recoverable(
    unknowns: Sequence[Hashable], sums: Iterable[tuple[Hashable, Sequence[Hashable]]]
) -> set[Hashable]:
    column = {k: n for n, k in enumerate(unknowns)}
    matrix: list[list[Fraction]] = []
    for total, parts in sums:
        row = [Fraction(0)] * len(unknowns)
        for key, sign in ((total, 1), *((p, -1) for p in parts)):
            if key in column:
                row[column[key]] += sign
        if any(row):
            matrix.append(row)
    pivots: list[int] = []
    r = 0
    for c in range(len(unknowns)):
        found = next((i for i in range(r, len(matrix)) if matrix[i][c]), None)
        if found is None:
            continue
        matrix[r], matrix[found] = matrix[found], matrix[r]
        lead = matrix[r][c]
        matrix[r] = [v / lead for v in matrix[r]]
        for i in range(len(matrix)):
            if i != r and matrix[i][c]:
                factor = matrix[i][c]
                matrix[i] = [a - factor * b for a, b in zip(matrix[i], matrix[r], strict=True)]
        pivots.append(c)
        r += 1
    free = [c for c in range(len(unknowns)) if c not in pivots]
    # One null-space vector per free unknown: it is 1, the other free ones 0.
    moves: set[int] = set(free)
    for f in free:
        for row, p in zip(matrix, pivots, strict=False):
            if row[f]:
                moves.add(p)
    return {k for k, n in column.items() if n not in moves}


def assert_no_small_union(
    cells: Mapping[Any, Cell], sums: Iterable[Sum[Any]], hidden: AbstractSet[Any]
) -> None:
    """Where a sum's total is published or known, its hidden parts together (the total
    less the parts shown) are about 0 or 8+ people, unless nothing is left to hide."""
    unknown = {k for k, c in cells.items() if (k in hidden and not c.known) or not c.shown}
    for one in sums:
        if one.total in unknown:
            continue
        people = sum(cells[k].people for k in one.parts if k in unknown)
        if 0 < people < 8:
            left = [
                k
                for k in (one.total, *one.parts)
                if k not in unknown and not cells[k].known and cells[k].people
            ]
            assert not left, f"{one}: hidden parts about {people} people; could hide {left}"
