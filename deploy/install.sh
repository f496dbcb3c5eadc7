#!/usr/bin/env bash
# The one way Hexitime is installed for production: deploy/install.sh VENV
#
# Builds everything production needs into a fresh virtual environment at VENV:
#   1. the front-end packages from package-lock.json (npm ci), copied into the source
#      tree's theming/static/theming/vendor/ so that they ship in the package;
#   2. the package itself, non-editable, with the pinned versions of constraints.txt and
#      without the dev or embedded extras;
#   3. the translations compiled (hexitime/locale_build.py, no system gettext needed);
#   4. collectstatic under production settings into VENV/share/hexitime/static, where
#      production settings look for it (HEXITIME_STATIC_ROOT overrides both).
# The container image (deploy/Containerfile) runs exactly this script. Needs Python 3.11+
# and npm; writes nothing else. Run it as any user that can write VENV.
set -euo pipefail

venv=${1:?usage: deploy/install.sh VENV}
source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=${PYTHON:-$(command -v python3.11 || command -v python3)}

"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "install.sh: Hexitime needs Python 3.11 or newer" >&2; exit 1; }
command -v npm >/dev/null || { echo "install.sh: npm is needed for the front-end packages" >&2; exit 1; }

echo "== front-end packages (npm ci)"
# -P: the script's own folder (theming/, with a selectors.py) must not shadow the stdlib.
"$python" -P "$source_dir/theming/frontend.py"

echo "== hexitime into $venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -c "$source_dir/constraints.txt" "$source_dir"

echo "== translations (.po to .mo, in the installed package)"
"$venv/bin/python" -m hexitime.locale_build

echo "== static files (collectstatic, production settings)"
static_root=${HEXITIME_STATIC_ROOT:-$venv/share/hexitime/static}
scratch_home=$(mktemp -d)
trap 'rm -rf "$scratch_home"' EXIT
# collectstatic reads settings but no database and no secret: a throwaway key satisfies
# the production settings' check, and nothing signed with it outlives this command.
env -u DATABASE_URL -u REDIS_URL \
  DJANGO_SETTINGS_MODULE=hexitime.settings.production \
  DJANGO_SECRET_KEY="$("$python" -c 'import secrets; print(secrets.token_urlsafe(60))')" \
  HEXITIME_STATIC_ROOT="$static_root" \
  HEXITIME_HOME="$scratch_home" \
  "$venv/bin/python" -m django collectstatic --noinput --verbosity 0
echo "Installed: $venv/bin/hexitime (static files in $static_root)"
