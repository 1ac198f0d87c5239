"""``ocpi-sandbox location|chargers|command|logs``: drive a running sandbox's fleet over its management API.

Each command takes ``--url`` and ``--token`` (or OCPI_SANDBOX_URL and OCPI_SANDBOX_TOKEN), prints what
happened for a person, or the API's JSON with ``--json`` for a script, and exits 1 when something failed.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .management_client import DEFAULT_URL, ORGANIZATION_ENV, TOKEN_ENV, URL_ENV, ManagementClient, ManagementError

__all__ = ["location", "chargers", "command", "logs"]

COMMANDS = ("plug-in", "unplug", "swipe-card", "start-transaction", "stop-transaction", "reset", "unlock-connector",
            "update-configuration", "set-local-auth-list", "inject-fault", "clear-fault", "power-loss",
            "disconnect", "reconnect")
_ARROW = {"sent": "→", "received": "←"}
_KIND = {2: "CALL", 3: "RESULT", 4: "ERROR"}


def api_options(func: Callable) -> Callable:
    """Add --url, --token, --organization and --json to a command."""
    func = click.option("--json", "as_json", is_flag=True, help="Print the API's JSON instead of a summary.")(func)
    func = click.option("--organization", envvar=ORGANIZATION_ENV, default=None,
                        help=f"Tenant to act on with the admin token (env {ORGANIZATION_ENV}).")(func)
    func = click.option("--token", envvar=TOKEN_ENV, default=None,
                        help=f"Admin or tenant token (env {TOKEN_ENV}, else OCPI_SANDBOX_ADMIN_TOKEN).")(func)
    return click.option("--url", envvar=URL_ENV, default=DEFAULT_URL, show_default=True,
                        help=f"The sandbox's base URL (env {URL_ENV}).")(func)


def _client(url: str, token: str | None, organization: str | None) -> ManagementClient:
    try:
        return ManagementClient(url, token, organization=organization)
    except ManagementError as exc:
        raise click.ClickException(str(exc)) from None


def _fail(exc: ManagementError) -> click.ClickException:
    return click.ClickException(str(exc))


def _print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2))


def _resolve_charger(client: ManagementClient, ref: str) -> dict:
    """A charger by id or identity."""
    try:
        return client.call("GET", f"/api/chargers/{ref}")
    except ManagementError as exc:
        if exc.status != 404:
            raise
    found = [c for c in client.call("GET", "/api/chargers") if c["identity"] == ref]
    if not found:
        raise ManagementError(f"no charger {ref!r} (neither an id nor an identity) in this tenant; list them with "
                              "`ocpi-sandbox chargers list`")
    return found[0]


# ----------------------------------------------------------------------------------------------- location

@click.group()
def location() -> None:
    """Create and list locations."""


@location.command("create")
@click.option("--name", required=True)
@click.option("--address", required=True)
@click.option("--city", required=True)
@click.option("--country", required=True, help="ISO 3166-1 alpha-3, e.g. NLD.")
@click.option("--latitude", required=True, help='Decimal degrees with 5-7 decimals, e.g. "52.37403".')
@click.option("--longitude", required=True, help='Decimal degrees with 5-7 decimals, e.g. "4.88969".')
@click.option("--postal-code", default=None)
@click.option("--time-zone", default="Europe/Amsterdam", show_default=True, help="IANA time zone.")
@click.option("--party", "party_id", default=None, help="CPO party id that publishes it over OCPI.")
@api_options
def location_create(name: str, address: str, city: str, country: str, latitude: str, longitude: str,
                    postal_code: str | None, time_zone: str, party_id: str | None, url: str, token: str | None,
                    organization: str | None, as_json: bool) -> None:
    """Create a location; prints its id."""
    body = {"name": name, "address": address, "city": city, "country": country, "latitude": latitude,
            "longitude": longitude, "time_zone": time_zone, "postal_code": postal_code, "cpo_party_id": party_id}
    with _client(url, token, organization) as client:
        try:
            created = client.call("POST", "/api/locations", json_body={k: v for k, v in body.items() if v is not None})
        except ManagementError as exc:
            raise _fail(exc) from None
    if as_json:
        _print_json(created)
    else:
        click.echo(f"location {created['id']}  {created['name']}, {created['city']}")


@location.command("list")
@api_options
def location_list(url: str, token: str | None, organization: str | None, as_json: bool) -> None:
    """List locations."""
    with _client(url, token, organization) as client:
        try:
            found = client.call("GET", "/api/locations")
        except ManagementError as exc:
            raise _fail(exc) from None
    items = found["items"] if isinstance(found, dict) and "items" in found else found
    if as_json:
        _print_json(items)
        return
    for item in items:
        click.echo(f"{item['id']}  {item['name']}, {item['city']}")


# ----------------------------------------------------------------------------------------------- chargers

@click.group()
def chargers() -> None:
    """Create chargers in bulk and list them."""


@chargers.command("add")
@click.argument("location_id")
@click.option("--brand", "brand_slug", required=True, help="Catalog brand slug (GET /api/catalog/brands).")
@click.option("--model", "model_slug", required=True, help="Catalog model slug of that brand.")
@click.option("--count", type=click.IntRange(1, 10_000), default=None,
              help="How many chargers (identities padded with random hex beyond --id).")
@click.option("--id", "suffixes", multiple=True, help="Identity suffix; repeat for several.")
@click.option("--identity-prefix", default=None, help='Identity = prefix + suffix, e.g. "SITE1-".')
@click.option("--ocpp-version", type=click.Choice(["1.6", "2.0.1"]), default=None)
@click.option("--ws-url", default=None, help="Your CSMS (ws:// or wss://); default: the embedded CSMS.")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE",
              help="OCPP configuration override (1.6 key or 2.0.1 Component.Variable); repeat for several.")
@click.option("--idempotency-key", default=None, help="Retry-safe: the same key returns the same job.")
@click.option("--no-wait", is_flag=True, help="Print the job and return at once.")
@api_options
def chargers_add(location_id: str, brand_slug: str, model_slug: str, count: int | None, suffixes: tuple[str, ...],
                 identity_prefix: str | None, ocpp_version: str | None, ws_url: str | None,
                 settings: tuple[str, ...], idempotency_key: str | None, no_wait: bool, url: str, token: str | None,
                 organization: str | None, as_json: bool) -> None:
    """Create chargers at LOCATION_ID as a job, with a progress bar until it is READY."""
    if count is None and not suffixes:
        raise click.UsageError("say how many chargers: --count N, or their identity suffixes with --id")
    template = {"brand_slug": brand_slug, "model_slug": model_slug, "ocpp_version": ocpp_version, "ws_url": ws_url,
                "identity_prefix": identity_prefix, "configuration": _pairs(settings, "--set") or None}
    group: dict[str, Any] = {"template": {k: v for k, v in template.items() if v is not None}}
    if suffixes:
        group["charger_ids"] = list(suffixes)
    if count is not None:
        group["chargers_number"] = count
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
    with _client(url, token, organization) as client:
        try:
            accepted = client.call("POST", f"/api/locations/{location_id}/chargers", json_body=[group], headers=headers)
            if no_wait:
                if as_json:
                    _print_json(accepted)
                else:
                    click.echo(f"job {accepted['job_id']} {accepted['status']}: follow it at "
                               f"{accepted['status_url']}")
                return
            job = _follow_job(client, accepted["status_url"], quiet=as_json)
        except ManagementError as exc:
            raise _fail(exc) from None
    if as_json:
        _print_json(job)
    else:
        results = job.get("results") or {}
        created, failed = results.get("created") or [], results.get("failed") or []
        click.echo(f"job {job['job_id']} {job['status']}: {len(created)} created, {len(failed)} failed")
        for item in failed:
            click.echo(f"  {item['identity']}: {item['error']}", err=True)
    if job["status"] == "FAILED" or (job.get("results") or {}).get("failed"):
        sys.exit(1)


def _follow_job(client: ManagementClient, status_url: str, *, quiet: bool) -> dict:
    """Poll a job until READY or FAILED, drawing its progress on stderr."""
    console = Console(stderr=True, quiet=quiet)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[failed]} failed"), console=console, transient=False) as bar:
        task = bar.add_task("PENDING", total=None, failed=0)
        while True:
            job = client.call("GET", status_url)
            progress = job["progress"]
            bar.update(task, description=job["status"], total=progress["total"] or None,
                       completed=progress["done"] + progress["failed"], failed=progress["failed"])
            if job["status"] in ("READY", "FAILED"):
                return job
            time.sleep(0.3)


@chargers.command("list")
@click.option("--location", "location_id", default=None, help="Only the chargers of this location.")
@api_options
def chargers_list(location_id: str | None, url: str, token: str | None, organization: str | None,
                  as_json: bool) -> None:
    """List chargers."""
    with _client(url, token, organization) as client:
        try:
            found = client.call("GET", "/api/chargers", params={"location_id": location_id})
        except ManagementError as exc:
            raise _fail(exc) from None
    if as_json:
        _print_json(found)
        return
    for item in found:
        click.echo(f"{item['id']}  {item['identity']}  OCPP {item['ocpp_version']}  "
                   f"{item['brand_slug']}/{item['model_slug']}  {item['ws_url'] or 'embedded CSMS'}")


# ------------------------------------------------------------------------------------------------ command

@click.command()
@click.argument("name", metavar="COMMAND", type=click.Choice(COMMANDS))
@click.option("--charger", "charger_refs", multiple=True,
              help="Charger id or identity; with --location, repeat it to pick a subset.")
@click.option("--location", "location_id", default=None, help="Run on every charger of this location.")
@click.option("--evse", "evse_id", type=int, default=None)
@click.option("--connector", "connector_id", type=int, default=None)
@click.option("--id-token", default=None, help="Card for swipe-card and start-transaction.")
@click.option("--error-code", default=None, help="inject-fault: OCPP 1.6 ChargePointErrorCode.")
@click.option("--type", "reset_type", type=click.Choice(["Soft", "Hard"]), default=None, help="reset type.")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE", help="update-configuration; repeatable.")
@click.option("--list-entry", "entries", multiple=True, metavar="ID_TOKEN[=STATUS]",
              help="set-local-auth-list entry (status Accepted by default, 'remove' in a Differential update).")
@click.option("--update-type", type=click.Choice(["Full", "Differential"]), default=None)
@click.option("--stay-offline", is_flag=True, help="disconnect: stay offline until reconnect.")
@click.option("--allow-offline", is_flag=True, help="Act on a charger that is offline.")
@click.option("--wait", type=click.FloatRange(0, 60), default=None, help="Seconds to wait for the frames.")
@api_options
def command(name: str, charger_refs: tuple[str, ...], location_id: str | None, evse_id: int | None,
            connector_id: int | None, id_token: str | None, error_code: str | None, reset_type: str | None,
            settings: tuple[str, ...], entries: tuple[str, ...], update_type: str | None, stay_offline: bool,
            allow_offline: bool, wait: float | None, url: str, token: str | None, organization: str | None,
            as_json: bool) -> None:
    """Run COMMAND on a charger (--charger) or on a location's chargers (--location), and show what the
    simulator did and the OCPP frames it caused."""
    if location_id is None and len(charger_refs) != 1:
        raise click.UsageError("name one charger with --charger, or a location with --location")
    body: dict[str, Any] = {"evse_id": evse_id, "connector_id": connector_id, "id_token": id_token,
                            "error_code": error_code, "type": reset_type, "update_type": update_type,
                            "wait": wait, "configuration": _pairs(settings, "--set") or None}
    if entries:
        body["id_tokens"] = [_list_entry(e) for e in entries]
    if stay_offline:
        body["stay_offline"] = True
    if allow_offline:
        body["allow_offline"] = True
    body = {k: v for k, v in body.items() if v is not None}
    with _client(url, token, organization) as client:
        try:
            if location_id is not None:
                if charger_refs:
                    body["charger_ids"] = list(charger_refs)
                outcome = client.call("POST", f"/api/locations/{location_id}/chargers/commands/{name}", json_body=body)
            else:
                charger = _resolve_charger(client, charger_refs[0])
                outcome = _one_command(client, charger["id"], name, body)
        except ManagementError as exc:
            raise _fail(exc) from None
    if as_json:
        _print_json(outcome)
    elif location_id is not None:
        _show_many(outcome)
    else:
        _show_one(outcome)
    failed = outcome["failed"] if location_id is not None else not outcome["ok"]
    if failed:
        sys.exit(1)


def _one_command(client: ManagementClient, charger_id: str, name: str, body: dict) -> dict:
    try:
        return client.call("POST", f"/api/chargers/{charger_id}/commands/{name}", json_body=body)
    except ManagementError as exc:
        details = exc.body.get("details") if isinstance(exc.body, dict) else None
        if exc.status == 409 and isinstance(details, dict) and "command" in details:
            return details  # refused: the outcome says why, and which frames went out meanwhile
        raise


def _show_one(outcome: dict) -> None:
    verdict = "ok" if outcome["ok"] else f"failed ({outcome['error']}): {outcome['message']}"
    click.echo(f"{outcome['command']} on {outcome['identity']}: {verdict}")
    if outcome.get("result"):
        click.echo(f"  simulator: {json.dumps(outcome['result'])}")
    for frame in outcome.get("frames") or []:  # plain lines: unique ids stay whole, to grep and copy
        click.echo(f"  {_clock(frame['at'])} {_ARROW.get(frame['direction'], '?')} "
                   f"{_KIND.get(frame['message_type'], '?'):<6} {frame['action'] or '-':<28} {frame['unique_id']}")
    if not outcome.get("settled", True):
        click.echo("  (the wait ran out before the charger was done: more frames may follow in its log)")


def _show_many(result: dict) -> None:
    click.echo(f"{result['command']} on {result['total']} chargers: {result['succeeded']} ok, "
               f"{result['failed']} failed")
    width = max((len(item["identity"]) for item in result["results"]), default=0)
    for item in result["results"]:  # one line per charger, to grep
        outcome = "ok" if item["ok"] else item["error"] or "failed"
        frames = len(item.get("frames") or [])
        message = f"  {item['message']}" if item.get("message") else ""
        click.echo(f"  {item['identity']:<{width}}  {outcome:<13} {frames:>3} frames{message}")


# --------------------------------------------------------------------------------------------------- logs

@click.command()
@click.argument("charger_ref", metavar="CHARGER")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new frames as they happen (Ctrl+C stops).")
@click.option("--action", default=None, help="Only this OCPP action, e.g. StatusNotification.")
@click.option("--direction", type=click.Choice(["sent", "received"]), default=None,
              help="As seen from the charger.")
@click.option("--lines", "-n", type=click.IntRange(0, 1000), default=20, show_default=True,
              help="How many recent frames to print first.")
@api_options
def logs(charger_ref: str, follow: bool, action: str | None, direction: str | None, lines: int, url: str,
         token: str | None, organization: str | None, as_json: bool) -> None:
    """Print a charger's recent OCPP frames (CHARGER: id or identity), and with --follow the new ones live."""
    with _client(url, token, organization) as client:
        try:
            charger = _resolve_charger(client, charger_ref)
            path = f"/api/chargers/{charger['id']}"
            if lines:
                page = client.call("GET", f"{path}/logs", params={"action": action, "direction": direction,
                                                                   "limit": lines})
                for frame in reversed(page["items"]):
                    _print_frame(frame, as_json)
            if not follow:
                return
            for event, data in client.events(f"{path}/logs/stream", params={"action": action,
                                                                            "direction": direction}):
                if event == "subscribed":
                    click.echo(f"following {charger['identity']} (Ctrl+C to stop)", err=True)
                elif event == "frame":
                    _print_frame(data, as_json)
                elif event == "dropped":
                    click.echo(f"... {data['dropped']} frames skipped: this terminal fell behind (they are in "
                               "the log)", err=True)
        except ManagementError as exc:
            raise _fail(exc) from None
        except KeyboardInterrupt:
            return


def _print_frame(frame: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(frame))
        return
    click.echo(f"{_clock(frame['at'])} {_ARROW.get(frame['direction'], '?')} "
               f"{_KIND.get(frame['message_type'], '?'):<6} {frame['action'] or '-':<28} {frame['frame']}")


# ---------------------------------------------------------------------------------------------- plumbing

def _clock(at: str) -> str:
    try:
        return datetime.fromisoformat(at).strftime("%H:%M:%S.%f")[:-3]
    except (TypeError, ValueError):
        return str(at)


def _pairs(items: tuple[str, ...], flag: str) -> dict[str, str]:
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r}: write KEY=VALUE", param_hint=flag)
        pairs[key] = value
    return pairs


def _list_entry(item: str) -> dict[str, Any]:
    token, _, status = item.partition("=")
    if not token:
        raise click.BadParameter(f"{item!r}: write ID_TOKEN or ID_TOKEN=STATUS", param_hint="--list-entry")
    return {"id_token": token, "status": None if status.lower() == "remove" else (status or "Accepted")}
