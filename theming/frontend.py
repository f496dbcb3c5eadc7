"""Front-end packages from the npm registry, built by the project's own command.

`package.json` pins them and `package-lock.json` locks them; `frontend_build()` runs
`npm ci` when the lock file is newer than `node_modules/` and copies the files pages use
into `theming/static/theming/vendor/` (git-ignored: nothing minified is committed).
`hexitime frontend` (make frontend) runs it; `hexitime up` and `hexitime test` run it
when the files are missing; deploy/install.sh runs this file with a plain Python before it
installs the package, so the copied files ship in it. So it imports nothing but the
standard library.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
VENDOR = REPO_ROOT / "theming" / "static" / "theming" / "vendor"
# package file in node_modules -> name under static/theming/vendor/
FILES = {
    "htmx.org/dist/htmx.min.js": "htmx.min.js",
    "axe-core/axe.min.js": "axe.min.js",  # browser tests inject it; no page links it
    "cytoscape/dist/cytoscape.min.js": "cytoscape.min.js",  # the network map (insights)
    "chart.js/dist/chart.umd.min.js": "chart.umd.min.js",  # the impact dashboard (insights)
    # chart.umd.min.js names its source map; collectstatic's manifest refuses a missing one.
    "chart.js/dist/chart.umd.min.js.map": "chart.umd.min.js.map",
}


class FrontendUnavailable(RuntimeError):
    pass


def frontend_built() -> bool:
    return all((VENDOR / name).exists() for name in FILES.values())


def frontend_build(*, root: Path = REPO_ROOT) -> list[Path]:
    """Install the locked npm packages (only when the lock changed) and copy them into
    static. Raises FrontendUnavailable, saying why, when npm is missing or fails."""
    modules, lock = root / "node_modules", root / "package-lock.json"
    stamp = modules / ".package-lock.json"  # npm writes it on every install
    if not stamp.exists() or stamp.stat().st_mtime < lock.stat().st_mtime:
        npm = shutil.which("npm")
        if npm is None:
            raise FrontendUnavailable("npm is not installed (apt-get install npm)")
        result = subprocess.run(  # noqa: S603 - fixed arguments
            [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode:
            raise FrontendUnavailable(f"npm ci failed: {result.stderr.strip()[-500:]}")
    VENDOR.mkdir(parents=True, exist_ok=True)
    copied = []
    for source, name in FILES.items():
        shutil.copyfile(modules / source, VENDOR / name)
        copied.append(VENDOR / name)
    return copied


if __name__ == "__main__":
    try:
        for path in frontend_build():
            print(f"built {path.relative_to(REPO_ROOT)}")
    except FrontendUnavailable as missing:
        sys.exit(f"front-end packages not built: {missing}")
