# ladderbot: one Python process, one SQLite file on the /data volume.
#
#   docker build -t ladderbot .
#   docker run -d --name ladderbot --env-file .env -v ladderbot-data:/data \
#       --stop-timeout 30 --restart unless-stopped ladderbot
#
# docs/operations.md has the details: settings, custom ladder.toml/terms.md, backups, stats.

# --- build: install the package and its pinned dependencies into a venv -------------------
FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# Only what `pip install .` needs (.dockerignore keeps .env, databases, tests out anyway).
COPY pyproject.toml README.md ./
COPY bot.py ./
COPY app ./app
COPY cache ./cache
COPY cogs ./cogs
COPY ladder ./ladder
COPY services ./services
COPY storage ./storage
COPY web ./web
COPY i18n ./i18n
# The translations are committed as .po; the image carries them compiled (.mo) as well.
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install . \
 && /opt/venv/bin/pybabel -q compile -d i18n/locales -D ladderbot \
 && /opt/venv/bin/pip install --no-deps --force-reinstall .

# --- run ----------------------------------------------------------------------------------
FROM python:3.12-slim
# DATA_DIR: the ladder rules and the terms shipped with the image (mount your own over
# /app/data to change them). DATABASE_PATH: the SQLite file, on the volume.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATA_DIR=/app/data \
    DATABASE_PATH=/data/ladder.db
RUN groupadd --system --gid 10001 ladderbot \
 && useradd --system --uid 10001 --gid ladderbot --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin ladderbot \
 && mkdir -p /data /app/data \
 && chown ladderbot:ladderbot /data
COPY --from=build /opt/venv /opt/venv
COPY data/ladder.toml data/terms.md /app/data/
WORKDIR /app
# The database and its -wal/-shm files live here; a new named volume starts owned by ladderbot.
VOLUME ["/data"]
USER ladderbot:ladderbot
# The bot stops cleanly on SIGTERM: it finishes running commands, drains the command log and
# closes the database. Give it time: `docker run --stop-timeout 30` (compose:
# stop_grace_period: 30s); Docker's default of 10 s may cut the drain short.
STOPSIGNAL SIGTERM
# Exec form: Python is PID 1 and receives SIGTERM itself (no shell in between).
CMD ["python", "-m", "bot"]
