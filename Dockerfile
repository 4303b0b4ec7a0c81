# The image of the worker, the API and the one-shot migration (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md schema.sql ./
COPY procmon ./procmon
COPY parsers ./parsers
COPY streams ./streams
COPY graphql_api ./graphql_api
RUN pip install . && useradd --system --uid 10001 procmon

USER procmon
ENTRYPOINT ["procmon"]
CMD ["--help"]
