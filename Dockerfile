# The image of the worker, the API and the one-shot migration (see docker-compose.yml).
# The wheel is built in a stage of its own: it compiles the C twins (hatch_build.py), and the
# compiler stays out of the image.
FROM python:3.11.11-slim AS wheel

ENV PIP_NO_CACHE_DIR=1
RUN apt-get update \
    && apt-get install --yes --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md hatch_build.py ./
COPY procmon ./procmon
COPY parsers ./parsers
COPY history ./history
COPY streams ./streams
COPY graphql_api ./graphql_api
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.11.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

# procps: the `ps` that `procmon collect` runs (the collector service).
RUN apt-get update \
    && apt-get install --yes --no-install-recommends procps \
    && rm -rf /var/lib/apt/lists/*
COPY --from=wheel /wheels /wheels
# The worker, the API and the collector: the server's extra (the client's is for notebooks).
RUN pip install "$(echo /wheels/*.whl)[server]" && rm -rf /wheels \
    && useradd --system --uid 10001 procmon

USER procmon
ENTRYPOINT ["procmon"]
CMD ["--help"]
