# Zapis bot: a slim image that applies migrations and then runs the bot.
#
#   docker build -t zapis .
#   docker run --env-file .env -v zapis-data:/app/data zapis              # long polling
#   docker run --env-file .env -e ZAPIS_MODE=webhook -p 8080:8080 zapis   # webhook server
#
# Required: ZAPIS_BOT_TOKEN, ZAPIS_ENCRYPTION_KEY (python -m bot gen-key).
# Webhook mode also: ZAPIS_WEBHOOK__BASE_URL (public https://), ZAPIS_WEBHOOK__SECRET_TOKEN.
# Without ZAPIS_DATABASE_URL the SQLite file lives in /app/data (mount a volume there).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ZAPIS_MODE=polling

# An unprivileged account; the code is owned by root and read-only for it.
RUN groupadd --system --gid 10001 zapis \
    && useradd --system --uid 10001 --gid zapis --home-dir /app --shell /usr/sbin/nologin zapis

# The README's install: `pip install .` builds a wheel whose build step (setup.py)
# compiles the message catalogues into the package; the migrations and fonts are
# package data. So the bot runs from site-packages and the source is not kept;
# /app holds only the data folder (the default SQLite file is data/zapis.sqlite3).
COPY . /tmp/src
RUN pip install --no-cache-dir /tmp/src \
    && rm -rf /tmp/src \
    && python -c "from bot.i18n import LOCALES_DIR as d; \
assert all((d / l / 'LC_MESSAGES/messages.mo').is_file() for l in ('ru', 'en')), d" \
    && mkdir -p /app/data \
    && chown zapis:zapis /app/data

WORKDIR /app

USER zapis
VOLUME ["/app/data"]
# Webhook mode listens here (ZAPIS_WEBHOOK__PORT); GET /healthz answers "ok".
EXPOSE 8080

# Migrations first, then the bot in the chosen mode (polling or webhook). `exec`
# makes the bot PID 1, so docker stop's SIGTERM reaches it (both modes handle it).
CMD ["sh", "-c", "python -m bot migrate && exec python -m bot \"$ZAPIS_MODE\""]
