"""The ``ocpi-sandbox`` command: serve the sandbox, export the OCPI JSON Schemas, manage the admin token."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import click

from .settings import Settings

__all__ = ["main"]


async def _prepare(settings: Settings):  # noqa: ANN202 - returns domain.quickstart.Quickstart
    from .db.engine import create_engine, create_session_factory
    from .db.migrate import migrate
    from .domain.quickstart import prepare_quickstart

    engine = create_engine(settings.database_url)
    try:
        await migrate(engine)
        async with create_session_factory(engine)() as session:
            return await prepare_quickstart(session, settings.admin_token)
    finally:
        await engine.dispose()


def _banner(settings: Settings, quick) -> str:  # noqa: ANN001
    if quick.new_admin_token:
        admin = f"{quick.new_admin_token}   (generated now and stored; shown only this once)"
    elif settings.admin_token:
        admin = "the value of OCPI_SANDBOX_ADMIN_TOKEN"
    else:
        admin = "shown at first start; `ocpi-sandbox admin-token --reset` prints a new one"
    return "\n".join([
        "",
        "ocpi-sandbox is starting",
        f"  management API   {settings.base_url}/api   (reference: {settings.base_url}/api/schema)",
        f"  admin token      {admin}",
        f"  CPO party        {quick.country_code}*{quick.ocpi_party_id}  (id {quick.party_id})",
        "",
        "For an eMSP (OCPI 2.2.1 or 2.3.0):",
        f"  versions URL     {settings.versions_url}",
        f"  token A          {quick.token_a}",
        "  then POST your credentials to the credentials endpoint listed in the version details.",
        f"  The exchanges:   GET {settings.base_url}/api/partners/{quick.partner_id}/log",
        "",
    ])


def _settings(**flags: object) -> Settings:
    try:
        return Settings.from_env(**flags)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


@click.group()
@click.version_option(package_name="ocpi-sandbox")
def main() -> None:
    """An OCPI 2.2.1/2.3.0 CPO sandbox with live OCPP charger simulators."""


@main.command()
@click.option("--host", default=None, help="Interface to bind (default 127.0.0.1; env OCPI_SANDBOX_HOST).")
@click.option("--port", type=int, default=None, help="Port (default 8080; env OCPI_SANDBOX_PORT).")
@click.option("--database-url", default=None,
              help="SQLAlchemy URL (default sqlite+aiosqlite:///./ocpi-sandbox.db; env OCPI_SANDBOX_DATABASE_URL).")
@click.option("--public-url", default=None,
              help="Base URL put into OCPI URLs (default http://HOST:PORT; env OCPI_SANDBOX_PUBLIC_URL).")
@click.option("--log-level", default="info", type=click.Choice(["debug", "info", "warning", "error"]))
@click.option("--preset", default=None,
              help="Start with a bundle of this preset (GET /api/presets lists them; e.g. small-urban-ac); "
                   "'none' for a bare CPO party.")
def serve(host: str | None, port: int | None, database_url: str | None, public_url: str | None,
          log_level: str, preset: str | None) -> None:
    """Start the sandbox: OCPI at /ocpi, the management API at /api."""
    import uvicorn

    from .app import create_app
    from .startup_bundle import announce_when_ready, bundle_banner, prepare_bundle

    settings = _settings(host=host, port=port, database_url=database_url, public_url=public_url)
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    preset = None if preset in (None, "", "none") else preset
    try:
        start = asyncio.run(prepare_bundle(settings, preset)) if preset else None
        quick = None if preset else asyncio.run(_prepare(settings))
    except Exception as exc:  # noqa: BLE001 - a start-up failure should read as advice, not a traceback
        from sqlalchemy.engine import make_url

        from .domain.errors import DomainError

        if isinstance(exc, DomainError):
            raise click.UsageError(exc.message) from None
        shown = make_url(settings.database_url).render_as_string(hide_password=True)
        raise click.ClickException(f"could not prepare the database {shown}: {exc}") from None
    if start is not None:
        click.echo(bundle_banner(settings, start))
        announce_when_ready(settings, start, click.echo)
    else:
        click.echo(_banner(settings, quick))
    # Live log streams (SSE) never end by themselves: give open requests a few seconds, then stop anyway.
    ping = settings.csms_websocket_ping_interval or None  # uvicorn pings every 20 s unless told otherwise
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level=log_level,
                loop="auto", http="auto", ws="auto", timeout_graceful_shutdown=5, ws_ping_interval=ping,
                ws_ping_timeout=ping)


@main.command("export-schemas")
@click.option("--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory to write into (default: the repository's ocpi_modules/).")
def export_schemas(output: Path | None) -> None:
    """Write the JSON Schemas of our OCPI objects into ocpi_modules/<version>/schemas/."""
    from .ocpi.schemas import write_schemas
    from .paths import data_dir

    written = write_schemas(output or data_dir("ocpi_modules"))
    click.echo(f"wrote {len(written)} schema files")


def _read_json(path: Path, what: str) -> dict:
    import json

    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise click.BadParameter(f"cannot read {what} JSON from {path}: {exc}") from None
    # Accept a whole OCPI response too: take its data (a list of one object is taken as that object).
    if isinstance(value, dict) and "data" in value and "status_code" in value:
        value = value["data"]
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


@main.command()
@click.option("--tariff", "tariff_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="OCPI Tariff JSON (2.2.1 or 2.3.0).")
@click.option("--cdr", "cdr_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="OCPI CDR JSON whose charging periods are priced.")
@click.option("--ocpi-version", type=click.Choice(["auto", "2.2.1", "2.3.0"]), default="auto",
              help="Default: 2.3.0 when the tariff has tax_included, else 2.2.1.")
@click.option("--time-zone", default="UTC", show_default=True,
              help="IANA time zone of the location (tariff time restrictions are local; a CDR does not say).")
def price(tariff_path: Path, cdr_path: Path, ocpi_version: str, time_zone: str) -> None:
    """Price a CDR with a tariff and print totals and the per-period breakdown as JSON."""
    import json

    from .domain.errors import InvalidInput
    from .domain.pricing_check import check_cdr_price

    tariff = _read_json(tariff_path, "tariff")
    cdr = _read_json(cdr_path, "CDR")
    version = ocpi_version
    if version == "auto":
        version = "2.3.0" if isinstance(tariff, dict) and "tax_included" in tariff else "2.2.1"
    try:
        report = check_cdr_price(tariff, cdr, version=version, time_zone=time_zone)
    except InvalidInput as exc:
        raise click.ClickException(exc.message) from None
    click.echo(json.dumps({"ocpi_version": version, "time_zone": time_zone, **report}, indent=2))


@main.command("admin-token")
@click.option("--database-url", default=None, help="Database to act on (env OCPI_SANDBOX_DATABASE_URL).")
@click.option("--reset", is_flag=True, help="Generate a new admin token, store it and print it.")
def admin_token(database_url: str | None, reset: bool) -> None:
    """Print a new admin token (--reset): the old one stops working."""
    if not reset:
        raise click.UsageError("the admin token is stored hashed and cannot be shown again; pass --reset for a new one")
    settings = _settings(database_url=database_url)

    async def _reset() -> str:
        from .db.engine import create_engine, create_session_factory
        from .db.migrate import migrate
        from .db.models import SandboxSetting
        from .domain.tenants import ADMIN_TOKEN_KEY, ensure_admin_token

        engine = create_engine(settings.database_url)
        try:
            await migrate(engine)
            async with create_session_factory(engine)() as session:
                if (row := await session.get(SandboxSetting, ADMIN_TOKEN_KEY)) is not None:
                    await session.delete(row)
                    await session.commit()
                token = await ensure_admin_token(session, None)
                assert token is not None
                return token
        finally:
            await engine.dispose()

    click.echo(asyncio.run(_reset()))


# Client commands: they drive a running sandbox over its management API (see cli_fleet).
from .cli_fleet import chargers, command, location, logs  # noqa: E402 - after main exists, to add to it

for _client_command in (location, chargers, command, logs):
    main.add_command(_client_command)


if __name__ == "__main__":
    sys.exit(main())
