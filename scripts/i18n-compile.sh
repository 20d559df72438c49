#!/usr/bin/env bash
# Merge translation fragments and compile the catalogues the bot loads.
set -euo pipefail
cd "$(dirname "$0")/.."
py=./.venv/bin/python; [ -x "$py" ] || py=python3
"$py" scripts/i18n.py compile >/dev/null
