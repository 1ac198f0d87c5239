"""OCPI Tariffs, CPO as Sender: tariffs made in the management API, pulled by an eMSP page by page."""

from __future__ import annotations

import json

import jsonschema
import pytest

from ocpi_sandbox.paths import data_dir
from tests.conftest import Sandbox
from tests.peers.registration import registered_emsp


def tariff(price: float = 0.35, **extra) -> dict:  # noqa: ANN003
    return {"currency": "EUR", "tax_included": "NO", "elements": [{"price_components": [
        {"type": "ENERGY", "price": price, "vat": 21.0, "step_size": 1}]}], **extra}


def schema(version: str, name: str) -> dict:
    return json.loads((data_dir("ocpi_modules") / version / "schemas" / f"{name}.json").read_text())


async def pull_all(client, url: str) -> tuple[list[dict], list[dict]]:  # noqa: ANN001
    """Follow Link headers to the end, as an eMSP must; return the objects and the page headers."""
    objects, pages = [], []
    while url:
        reply = await client.get(url)
        assert reply.status_code == 200 and reply.json()["status_code"] == 1000, reply.text
        objects += reply.json()["data"]
        pages.append(dict(reply.headers))
        link = reply.headers.get("link")
        url = link[1:link.index(">")] if link else None
    return objects, pages


@pytest.mark.parametrize("version", ["2.2.1", "2.3.0"])
async def test_emsp_pulls_every_tariff_following_links(sandbox: Sandbox, version: str):
    async with registered_emsp(sandbox, version) as reg:
        party = reg.party["id"]
        for i in range(5):
            created = await sandbox.api.post(f"/api/parties/{party}/tariffs",
                                             json={"id": f"T-{i}", "tariff": tariff(0.30 + i / 100)})
            assert created.status_code == 201, created.text
        objects, pages = await pull_all(reg.client, reg.url("tariffs?limit=2"))
        assert [t["id"] for t in objects] == [f"T-{i}" for i in range(5)]
        assert [p["x-total-count"] for p in pages] == ["5", "5", "5"] and pages[0]["x-limit"] == "100"
        assert "link" not in pages[-1]
        validator = jsonschema.Draft202012Validator(schema(version, "Tariff"))
        for t in objects:
            validator.validate(t)
            assert (t["country_code"], t["party_id"]) == ("NL", "SBX")
        if version == "2.2.1":
            assert "tax_included" not in objects[0]
        else:
            assert objects[0]["tax_included"] == "NO"


async def test_221_gets_prices_excl_vat_and_price_limits_converted(sandbox: Sandbox):
    async with registered_emsp(sandbox, "2.2.1") as reg:
        body = tariff(1.21, tax_included="YES", min_price={"before_taxes": 1.0, "after_taxes": 1.21})
        await sandbox.api.post(f"/api/parties/{reg.party['id']}/tariffs", json={"id": "INCL", "tariff": body})
        [served] = (await reg.client.get(reg.url("tariffs"))).json()["data"]
        assert served["elements"][0]["price_components"][0]["price"] == 1.0
        assert served["min_price"] == {"excl_vat": 1.0, "incl_vat": 1.21}


async def test_date_filters_and_bad_tariffs(sandbox: Sandbox):
    async with registered_emsp(sandbox) as reg:
        party = reg.party["id"]
        await sandbox.api.post(f"/api/parties/{party}/tariffs", json={"id": "OLD", "tariff": tariff()})
        future = (await reg.client.get(reg.url("tariffs?date_from=2099-01-01T00:00:00Z"))).json()
        assert future["data"] == []
        bad_date = (await reg.client.get(reg.url("tariffs?date_from=tomorrow"))).json()
        assert bad_date["status_code"] == 2001
        missing = await sandbox.api.post(f"/api/parties/{party}/tariffs", json={"id": "X", "tariff": {"currency": "EUR"}})
        assert missing.status_code == 422 and "elements" in missing.json()["message"]
        dup = await sandbox.api.post(f"/api/parties/{party}/tariffs", json={"id": "OLD", "tariff": tariff()})
        assert dup.status_code == 409
