#!/usr/bin/env bash
# Development only, until the first release: rebuild the initial migration from storage/schema.py.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f storage/migrations/versions/*_initial.py
tmp=$(mktemp -d)
./.venv/bin/python - "$tmp" <<'PY'
import asyncio, sys
from storage.db import create_engine
from storage.migrate import revision
async def main() -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{sys.argv[1]}/regen.db")
    await revision(engine, "initial")
    await engine.dispose()
asyncio.run(main())
PY
for f in storage/migrations/versions/*_initial.py; do mv "$f" storage/migrations/versions/0001_initial.py; done
sed -i "s/^revision = .*/revision = '0001'/" storage/migrations/versions/0001_initial.py
rm -rf "$tmp"
echo "regenerated storage/migrations/versions/0001_initial.py"
