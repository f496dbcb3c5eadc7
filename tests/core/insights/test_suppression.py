"""Small-number suppression: examples, then properties over random tables."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.insights.suppression import CannotProtect, Cell, Sum, determined, suppress
from tests.core.insights.recovery import assert_no_small_union, recoverable

# A table: its cells by key, and the sums that tie them together.
Table = tuple[dict[Any, Cell], list[Sum[Any]]]


def column(values: dict[str, int], *, known_total: bool = False) -> Table:
    cells = {k: Cell(v, v) for k, v in values.items()}
    cells["total"] = Cell(sum(values.values()), sum(values.values()), known=known_total)
    return cells, [Sum("total", tuple(values))]


def test_a_lone_small_cell_takes_the_smallest_other_non_zero_cell_with_it() -> None:
    cells, sums = column({"a": 3, "b": 0, "c": 40, "d": 12})
    assert suppress(cells, sums) == {"a", "d"}


def test_cells_of_zero_and_eight_or_more_are_published() -> None:
    cells, sums = column({"a": 0, "b": 8, "c": 9})
    assert suppress(cells, sums) == set()


def test_two_small_cells_protect_each_other() -> None:
    cells, sums = column({"a": 1, "b": 7, "c": 30})
    assert suppress(cells, sums) == {"a", "b"}


def test_a_small_total_is_hidden_and_then_protects_its_part() -> None:
    # 5 members, all in one group: the total is small, so it is hidden with the group.
    cells, sums = column({"a": 5, "b": 0})
    assert suppress(cells, sums) == {"a", "total"}


def test_a_known_total_is_no_protection() -> None:
    # The network's member count is public, so hiding it protects nothing: a zero is
    # hidden instead, and the 5 could be split 5+0, 4+1, ...
    cells, sums = column({"a": 5, "b": 0}, known_total=True)
    assert suppress(cells, sums) == {"a", "b", "total"}


def test_an_implied_small_figure_is_protected() -> None:
    # members = active + inactive: publishing 9 members and 8 active would reveal 1
    # inactive member, so the two active counts are hidden together.
    cells = {
        "m1": Cell(9, 9),
        "a1": Cell(8, 8),
        "i1": Cell(1, 1, shown=False),
        "m2": Cell(11, 11),
        "a2": Cell(10, 10),
        "i2": Cell(1, 1, shown=False),
        "M": Cell(20, 20, known=True),
        "A": Cell(18, 18, known=True),
        "I": Cell(2, 0, shown=False),
    }
    sums = [
        Sum("m1", ("a1", "i1")),
        Sum("m2", ("a2", "i2")),
        Sum("M", ("m1", "m2")),
        Sum("A", ("a1", "a2")),
        Sum("I", ("i1", "i2")),
    ]
    assert suppress(cells, sums) == {"a1", "a2"}
    assert not determined({"a1", "a2", "i1", "i2", "I"}, sums) & {"a1", "a2", "i1", "i2"}


def test_hidden_cells_never_add_up_to_a_small_group() -> None:
    # "1 member did not answer" is hidden; hiding "prefer not to say" (0) with it stops
    # the subtraction, but the two would still say "1 member either did not answer or
    # preferred not to say". So a group of 8 or more is hidden too, and then its only
    # sub-group, which would give it away.
    cells = {
        "total": Cell(19, 19, known=True),
        "A": Cell(9, 9),
        "a1": Cell(9, 9),
        "B": Cell(9, 9),
        "b1": Cell(9, 9),
        "na": Cell(1, 1),
        "pnts": Cell(0, 0),
    }
    sums = [Sum("total", ("A", "B", "na", "pnts")), Sum("A", ("a1",)), Sum("B", ("b1",))]
    assert suppress(cells, sums) == {"na", "pnts", "A", "a1"}


def test_a_figure_that_known_figures_fix_cannot_be_protected() -> None:
    cells = {"only": Cell(3, 3), "total": Cell(3, 3, known=True)}
    with pytest.raises(CannotProtect):
        suppress(cells, [Sum("total", ("only",))])


def test_ties_go_to_the_first_cell_so_the_same_table_gives_the_same_answer() -> None:
    cells, sums = column({"a": 2, "b": 20, "c": 20, "d": 20})
    assert suppress(cells, sums) == suppress(cells, sums) == {"a", "b"}
    assert suppress(dict(reversed(cells.items())), sums) == {"a", "d"}


def test_the_bridge_that_defeats_counting_two_per_line_is_caught() -> None:
    # Two 2x2 blocks of small cells joined by one more: every row and column has two or
    # more hidden cells, yet the joining cell can be solved for (it is a bridge between
    # the blocks). Stopping at "two per line" would leave it recoverable; the solver
    # hides more.
    grid = {(r, c): 20 for r in range(4) for c in range(4)}
    for r, c in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (1, 2)]:
        grid[r, c] = 3
    cells: dict[Any, Cell] = {k: Cell(v, v) for k, v in grid.items()}
    sums: list[Sum[Any]] = []
    for r in range(4):
        cells["row", r] = Cell(sum(grid[r, c] for c in range(4)), 99, known=True)
        sums.append(Sum(("row", r), tuple((r, c) for c in range(4))))
    for c in range(4):
        cells["col", c] = Cell(sum(grid[r, c] for r in range(4)), 99, known=True)
        sums.append(Sum(("col", c), tuple((r, c) for r in range(4))))
    hidden = suppress(cells, sums)
    assert len(hidden) > 9
    assert not recoverable(
        sorted(hidden - {k for k in cells if cells[k].known}), [(s.total, s.parts) for s in sums]
    )


# --- Properties --------------------------------------------------------------------------

small_biased = st.one_of(st.integers(0, 9), st.integers(0, 60))


@st.composite
def tables(draw: st.DrawFn) -> Table:
    """A random two-way table with row, column and grand totals (any of them possibly
    known), some figures unshown, and an optional hierarchy over the rows."""
    rows = draw(st.integers(1, 5))
    cols = draw(st.integers(1, 4))
    grid = {(r, c): draw(small_biased) for r in range(rows) for c in range(cols)}
    unshown = draw(st.sets(st.sampled_from(sorted(grid)), max_size=rows))
    known = draw(st.booleans())
    cells: dict[Any, Cell] = {k: Cell(v, v, shown=k not in unshown) for k, v in grid.items()}
    sums: list[Sum[Any]] = []
    for r in range(rows):
        if cols > 1:
            value = sum(grid[r, c] for c in range(cols))
            cells["row", r] = Cell(value, value)
            sums.append(Sum(("row", r), tuple((r, c) for c in range(cols))))
    for c in range(cols):
        if rows > 1:
            value = sum(grid[r, c] for r in range(rows))
            cells["col", c] = Cell(value, value, known=known)
            sums.append(Sum(("col", c), tuple((r, c) for r in range(rows))))
    if rows > 1 and cols > 1:
        value = sum(grid.values())
        cells["all"] = Cell(value, value, known=known)
        sums.append(Sum("all", tuple(("col", c) for c in range(cols))))
        sums.append(Sum("all", tuple(("row", r) for r in range(rows))))
    return cells, sums


def _check(cells: dict[Any, Cell], sums: list[Sum[Any]], *, hide_zeros: bool = False) -> None:
    lowest = 0 if hide_zeros else 1  # the smallest number of people a hidden figure is about
    equations = [(s.total, s.parts) for s in sums]
    try:
        hidden = suppress(cells, sums, hide_zeros=hide_zeros)
    except CannotProtect:
        # Allowed only when hiding every shown figure would still expose one: the
        # known figures alone fix it.
        everything = sorted((k for k, c in cells.items() if not c.known), key=repr)
        sensitive = {k for k in everything if 0 < cells[k].people < 8} | {
            k for k in everything if cells[k].shown and lowest <= cells[k].people < 8
        }
        assert recoverable(everything, equations) & sensitive
        return
    published = {k for k, c in cells.items() if c.shown and k not in hidden}
    for key in published:
        assert not lowest <= cells[key].people < 8, f"{key} about {cells[key].people} shown"
    unknowns = sorted(
        (k for k, c in cells.items() if (k in hidden and not c.known) or not c.shown), key=repr
    )
    protected = {k for k in hidden if not cells[k].known} | {
        k for k, c in cells.items() if not c.shown and 0 < c.people < 8
    }
    found = recoverable(unknowns, equations)
    assert not found & protected, f"recoverable: {found & protected}"
    assert_no_small_union(cells, sums, hidden)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_no_published_cell_is_1_to_7_and_no_hidden_cell_is_recoverable(
    table: Table,
) -> None:
    cells, sums = table
    _check(cells, sums)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_with_zeros_hidden_no_published_cell_is_0_to_7_and_none_hidden_is_recoverable(
    table: Table,
) -> None:
    cells, sums = table
    _check(cells, sums, hide_zeros=True)


def test_zeros_can_be_hidden_like_small_counts() -> None:
    # 0 people in b: shown, a later `*` there would say someone joined b. Hidden with
    # zeros, it needs a complement like any small count: the smallest non-zero cell.
    cells, sums = column({"a": 30, "b": 0, "c": 12})
    assert suppress(cells, sums) == set()
    assert suppress(cells, sums, hide_zeros=True) == {"b", "c"}


def test_cannot_protect_only_when_known_figures_fix_a_sensitive_one() -> None:
    cells = {"a": Cell(3, 3, shown=False), "b": Cell(10, 10), "t": Cell(13, 13, known=True)}
    # b is the only shown cell that could protect a; hiding it works.
    assert suppress(cells, [Sum("t", ("a", "b"))]) == {"b"}
    cells["b"] = Cell(10, 10, known=True)
    with pytest.raises(CannotProtect):
        suppress(cells, [Sum("t", ("a", "b"))])
