"""Small-number suppression for published tables (pure Python; no Django, no database).

A published figure about 1 to 7 people can point at individuals, so it is shown as `*`
(primary suppression). Hiding it is not enough when the table also publishes totals: a
lone hidden cell in a column is its total minus the cells shown. So further cells are
hidden (secondary, or complementary, suppression) until no hidden cell can be worked out
from what is published.

"Worked out" is taken in its strongest linear sense, not only single subtractions: the
table's sums (a total equals its parts; a group's members equal its active plus inactive
members) are a system of linear equations whose unknowns are the hidden cells, and a cell
is recoverable when the equations fix its value. After each complementary suppression the
system is solved exactly (rational Gaussian elimination), and suppression stops only when
no hidden cell, and no sensitive figure implied by the table without being shown, is fixed.

Cells marked `known` are published elsewhere (a network's member count, say): they are
shown as `*` when small but never count as protection, since anyone may know them.

With `hide_zeros`, a figure about nobody is treated like a small one: hidden, and
protected like one. A published 0 turning into `*` (or back) between two tables says
that someone joined (or left) that group; when 0 and 1-7 both read `*`, it says nothing.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

SMALLEST_SHOWN = 8  # figures about 1-7 people are hidden; 0 and 8+ are shown


def is_small(people: int) -> bool:
    return 0 < people < SMALLEST_SHOWN


@dataclass(frozen=True)
class Cell:
    """One figure of a table.

    `value` is what the table's sums add up (a count, or minutes). `people` is how many
    people the figure is about: for a count, the count itself; for hours, the people who
    gave them. `shown` is false for a figure the table implies but does not print (the
    inactive members of a group, implied by its members and active members): it is never
    published, but when it is about 1-7 people it must not be recoverable either.
    """

    value: int
    people: int
    shown: bool = True
    known: bool = False


@dataclass(frozen=True)
class Sum(Generic[K]):
    """`total` equals the sum of `parts`."""

    total: K
    parts: tuple[K, ...]


class CannotProtect(ValueError):
    """A hidden cell is fixed by known figures alone: the table's design is at fault."""


def suppress(
    cells: Mapping[K, Cell], sums: Iterable[Sum[K]], *, hide_zeros: bool = False
) -> frozenset[K]:
    """The shown cells to publish as `*`.

    Every shown cell about 1-7 people (0-7 with `hide_zeros`) is in the result, and no
    cell of the result (nor any unshown cell about 1-7 people) can be worked out from the
    other shown cells, the known cells and the sums. Nor can a small group be pieced
    together from hidden cells: where a sum's total is published, its hidden parts
    together (the total less the parts shown) are about 0 or at least 8 people, unless
    every part is hidden and the total is known anyway. Complementary cells are chosen
    smallest non-zero value first, in `cells` order on ties, so the same table always
    gives the same answer.
    """
    sums = list(sums)
    for one in sums:
        for key in (one.total, *one.parts):
            if key not in cells:
                raise KeyError(f"sum names an unknown cell: {key!r}")
    order = {key: n for n, key in enumerate(cells)}
    hidden = {
        k
        for k, c in cells.items()
        if c.shown and (is_small(c.people) or (hide_zeros and c.people == 0))
    }
    latent = {k for k, c in cells.items() if not c.shown}
    protect_latent = {k for k in latent if is_small(cells[k].people)}
    while True:
        unknowns = {k for k in hidden if not cells[k].known} | latent
        fixed = determined(unknowns, sums)
        exposed = sorted(fixed & ((hidden - latent) | protect_latent), key=order.__getitem__)
        exposed = [k for k in exposed if not cells[k].known]
        if exposed:
            hidden.add(_complement(exposed[0], cells, sums, hidden, unknowns, order))
            continue
        widen = _small_union(cells, sums, hidden, unknowns, order)
        if widen is None:
            return frozenset(hidden)
        hidden.add(widen)


def _small_union(
    cells: Mapping[K, Cell],
    sums: Sequence[Sum[K]],
    hidden: set[K],
    unknowns: set[K],
    order: Mapping[K, int],
) -> K | None:
    """A cell to hide because a sum with a published total has hidden parts that
    together are about 1-7 people ("1 member is Roma or a Gypsy or Irish Traveller"):
    preferably the smallest that brings them to 8 or more. None if no sum needs one."""
    for one in sums:
        if one.total in unknowns:
            continue  # what the sum reveals is then a difference, not a group's size
        people = sum(cells[k].people for k in one.parts if k in unknowns)
        if not is_small(people):
            continue
        # Hiding a cell about nobody would not make the hidden parts about more people.
        candidates = [
            k
            for k in (one.total, *one.parts)
            if cells[k].shown and k not in hidden and not cells[k].known and cells[k].people
        ]
        if not candidates:
            continue  # nothing to add: the total is known, or the rest are about nobody
        enough = [k for k in candidates if cells[k].people >= SMALLEST_SHOWN - people]
        if enough:
            return min(enough, key=lambda k: (cells[k].value, order[k]))
        return max(candidates, key=lambda k: (cells[k].people, -order[k]))
    return None


def _complement(
    target: K,
    cells: Mapping[K, Cell],
    sums: Sequence[Sum[K]],
    hidden: set[K],
    unknowns: set[K],
    order: Mapping[K, int],
) -> K:
    """A shown, not yet hidden, not known cell to hide next to `target`: from the sums
    that contain it, or failing that, sums reached through their other unknowns; the
    smallest non-zero one that leaves `target` unfixed, or failing that the smallest."""
    reached, frontier, used = {target}, {target}, set()
    while frontier:
        around = [n for n, s in enumerate(sums) if n not in used and frontier & {s.total, *s.parts}]
        used.update(around)
        members = {k for n in around for k in (sums[n].total, *sums[n].parts)}
        candidates = [
            k for k in members if cells[k].shown and k not in hidden and not cells[k].known
        ]
        if candidates:
            candidates.sort(key=lambda k: (cells[k].value == 0, cells[k].value, order[k]))
            # The first that frees the target, if one does alone; else the first.
            for candidate in candidates:
                if target not in determined(unknowns | {candidate}, sums):
                    return candidate
            return candidates[0]
        frontier = (members & unknowns) - reached
        reached |= frontier
    raise CannotProtect(f"{target!r} is fixed by known figures alone")


def determined(unknowns: Iterable[K], sums: Iterable[Sum[K]]) -> set[K]:
    """The unknowns whose values the sums fix, whatever the published values are.

    Each sum is the equation `total - parts = 0`; cells not in `unknowns` are constants
    and drop out. Reduced row echelon form over the rationals: an unknown is fixed exactly
    when its pivot row mentions no free unknown.
    """
    index = {k: n for n, k in enumerate(unknowns)}
    rows: list[dict[int, Fraction]] = []
    for one in sums:
        row: dict[int, Fraction] = {}
        for key, sign in ((one.total, 1), *((part, -1) for part in one.parts)):
            if key in index:
                column = index[key]
                row[column] = row.get(column, Fraction(0)) + sign
        row = {c: v for c, v in row.items() if v}
        if row:
            rows.append(row)
    pivots: dict[int, dict[int, Fraction]] = {}  # pivot column -> its reduced row
    for row in rows:
        for column, pivot_row in pivots.items():
            factor = row.get(column)
            if factor:
                _add_multiple(row, pivot_row, -factor)
        if not row:
            continue
        column = min(row)
        scale = row[column]
        row = {c: v / scale for c, v in row.items()}
        for other in pivots.values():
            factor = other.get(column)
            if factor:
                _add_multiple(other, row, -factor)
        pivots[column] = row
    keys = list(index)
    return {keys[column] for column, row in pivots.items() if len(row) == 1}


def _add_multiple(
    row: dict[int, Fraction], other: Mapping[int, Fraction], factor: Fraction
) -> None:
    for column, value in other.items():
        new = row.get(column, Fraction(0)) + factor * value
        if new:
            row[column] = new
        else:
            row.pop(column, None)
