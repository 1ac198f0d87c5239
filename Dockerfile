# ocpi-sandbox as a container image; docker-compose.yml runs it with PostgreSQL.
#
# NOT BUILT BY THE PROJECT: its machines have no Docker engine. This file is kept correct by reading it, and its
# steps were run outside Docker (the same pip install into a fresh Python 3.11 environment from exactly the files
# copied below, `ocpi-sandbox serve` from that install, the HEALTHCHECK command). See docs/configuration.md.
FROM python:3.11-slim

WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY src ./src
COPY presets ./presets
COPY ocpi_modules ./ocpi_modules
# A regular (not editable) install: presets/ and ocpi_modules/ are packaged into the wheel, so /src is only the
# build context. Versions are pinned by constraints.txt, as in a checkout.
RUN pip install --no-cache-dir --disable-pip-version-check -c constraints.txt . \
    && useradd --create-home --shell /usr/sbin/nologin sandbox \
    && mkdir /data && chown sandbox:sandbox /data

USER sandbox
WORKDIR /data
# Without a database URL (plain `docker run`), SQLite in /data: mount a volume there to keep it.
# docker-compose.yml sets OCPI_SANDBOX_DATABASE_URL to its PostgreSQL service.
ENV OCPI_SANDBOX_PORT=8080 \
    OCPI_SANDBOX_DATABASE_URL=sqlite+aiosqlite:////data/ocpi-sandbox.db \
    PYTHONUNBUFFERED=1
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=6 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/api/health', timeout=2)"]
# Set OCPI_SANDBOX_PUBLIC_URL to the address clients use: with --host 0.0.0.0 the default is http://127.0.0.1:8080.
CMD ["ocpi-sandbox", "serve", "--host", "0.0.0.0"]
