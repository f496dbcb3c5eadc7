"""Listing search over real HTTP, 8 signed-in clients at once, the text varied per request.

    hexitime bench search [--members 4000] [--listings 10000] [--clients 8] [--seconds 10]
    PYTHONPATH=.:platform python bench/search.py [...]        (DATABASE_URL, REDIS_URL set)

The search page and the search API of bench/pages.py (the real server, production settings,
alternating rounds against the sign-in page), with fewer exchanges to build: its ratios and
the search API's p95 against their targets. It used to time Django's test client, one
member and a dozen fixed queries, which measured neither concurrency nor the server.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

PAGES = Path(__file__).with_name("pages.py")


def main() -> None:
    sys.argv = [str(PAGES), "--only", "search", "--exchanges", "2000", *sys.argv[1:]]
    runpy.run_path(str(PAGES), run_name="__main__")


if __name__ == "__main__":
    main()
