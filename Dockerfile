# A small image that runs `missing-bot serve` as a non-root user.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
RUN pip install --no-cache-dir --upgrade pip \
 && pip wheel --no-cache-dir --wheel-dir /wheels -c constraints.txt .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PORT=3000 \
    DATABASE_URL=sqlite:////data/missing-bot.sqlite3
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels missing-bot \
 && rm -rf /wheels \
 && useradd --system --uid 10001 --home-dir /data --create-home missingbot
USER missingbot
WORKDIR /data
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import os,urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)" || exit 1
CMD ["missing-bot", "serve"]
