# Fund Bot: one image for every process of the Procfile (web, worker, clock); compose.yaml runs them.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A user of its own: nothing in the container runs as root.
RUN useradd --create-home --uid 10001 fundbot
WORKDIR /app

COPY pyproject.toml README.md gunicorn.conf.py Procfile ./
COPY bot ./bot
COPY rules ./rules
COPY .github/ISSUE_TEMPLATE ./.github/ISSUE_TEMPLATE
RUN pip install . && chown -R fundbot /app

USER fundbot
ENV FUNDBOT_RULES=/app/rules \
    FUNDBOT_TEMPLATES=/app/.github/ISSUE_TEMPLATE \
    HOST=0.0.0.0 \
    PORT=8000
EXPOSE 8000

# The Procfile's `web`; compose.yaml gives `worker` and `clock` their own commands.
CMD ["gunicorn", "-c", "gunicorn.conf.py", "bot.app:create_app()"]
