# The Bookly image: `bookly` is the entrypoint, so the command is a subcommand
# (`serve`, `migrate`, `create-admin`); see compose.yaml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The package only: tests, virtualenvs and local data stay out (.dockerignore).
WORKDIR /src
COPY pyproject.toml README.md requirements.lock ./
COPY domain ./domain
COPY application ./application
COPY adapters ./adapters
COPY entrypoints ./entrypoints
COPY migrations ./migrations
# The locked versions (each file checked against its hash), then the package alone.
RUN pip install -r requirements.lock && pip install --no-deps . && cd / && rm -rf /src

# Runs as an unprivileged user; /app is its working folder (the embedded
# default's database and secret, and the mail outbox, would be written here).
RUN useradd --system --create-home --home-dir /app --uid 10001 --user-group bookly
WORKDIR /app
USER bookly

EXPOSE 8000
ENTRYPOINT ["bookly"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
