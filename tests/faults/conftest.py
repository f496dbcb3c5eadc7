"""The tally the fault tests keep, printed at the end of the run."""

from __future__ import annotations

from dataclasses import dataclass

import pytest


@dataclass
class Tally:
    operations: int = 0
    faults: int = 0
    lost: int = 0
    duplicated: int = 0


_TALLY = pytest.StashKey[Tally]()


@pytest.fixture(scope="module")
def tally(request: pytest.FixtureRequest) -> Tally:
    return request.config.stash.setdefault(_TALLY, Tally())


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    counts = config.stash.get(_TALLY, None)
    if counts is not None:
        terminalreporter.write_line(
            f"faults: operations={counts.operations} faults={counts.faults} "
            f"lost={counts.lost} duplicated={counts.duplicated}"
        )
