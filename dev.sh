#!/usr/bin/env bash
# The commands of README.md:
#   ./dev.sh console [console options]   the offline console demo (SQLite, seeded demo clinics)
#   ./dev.sh test [pytest options]        the whole test suite (lint, types, layers, tests)
#   ./dev.sh cluster [--processes 3]      3 webhook processes on PostgreSQL + Redis (local)
# All create .venv with Python 3.11+ and install the project on first use
# (again whenever pyproject.toml changes), and build the message catalogues.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv

ensure_env() {
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
      || { echo "Python 3.11 or newer is needed (found: $("$PYTHON" --version 2>&1))" >&2; exit 1; }
    "$PYTHON" -m venv "$VENV"
  fi
  local stamp="$VENV/.zapis-installed"
  local want
  want=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -e '.[dev]'
    echo "$want" > "$stamp"
  fi
  "$VENV/bin/python" scripts/i18n.py compile >/dev/null
}

cmd=${1:-help}
shift || true
case "$cmd" in
  console)
    ensure_env
    exec "$VENV/bin/python" -m emulator "$@"
    ;;
  cluster)
    ensure_env
    # PostgreSQL and Redis on this machine unless told otherwise; the database is
    # created and the demo world loaded on the first run (bot/cluster/launcher.py).
    export ZAPIS_DATABASE_URL=${ZAPIS_DATABASE_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/zapis_cluster}
    export ZAPIS_REDIS_URL=${ZAPIS_REDIS_URL:-redis://127.0.0.1:6379/0}
    exec "$VENV/bin/python" -m bot cluster "$@"
    ;;
  test)
    ensure_env
    "$VENV/bin/ruff" check .
    "$VENV/bin/ruff" format --check .
    "$VENV/bin/mypy" emulator bot flows documents domain storage
    "$VENV/bin/lint-imports" --no-cache  # the layer contract in pyproject.toml
    "$VENV/bin/python" scripts/i18n.py check
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  *)
    sed -n '2,7p' "$0"
    exit 2
    ;;
esac
