"""The translations: .po catalogues in git, compiled to .mo wherever the platform runs.

`hexitime up` and `hexitime test` compile whatever is missing or older than its .po;
deploy/install.sh compiles the installed copy (`python -m hexitime.locale_build`). polib
does it in Python, so a bare machine needs no GNU gettext (only `hexitime messages`,
which extracts the strings from the code, needs its xgettext).
"""

from __future__ import annotations

import sys
from pathlib import Path

import polib

LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def catalogs_compile(*, always: bool = False, locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Write each catalogue's .mo next to its .po; return the ones written. Fuzzy entries
    are left out, as msgfmt does: a guess is not a translation."""
    written = []
    for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if not always and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
        written.append(mo_path)
    return written


if __name__ == "__main__":
    for path in catalogs_compile(always=True):
        print(f"compiled {path}")
    sys.exit(0)
