"""The pricing tool: `ocpi-sandbox price --tariff --cdr` and POST /api/pricing give the same, checkable bill."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import Sandbox

# FLAT 0.50 + 0.30/kWh + 2.00/h charging, 21 % VAT; one period of 10 kWh in one hour:
# 0.50 + 3.00 + 2.00 = 5.50 excl. VAT, 6.655 incl.
TARIFF_221 = {
    "country_code": "NL", "party_id": "SBX", "id": "T1", "currency": "EUR", "last_updated": "2026-01-01T00:00:00Z",
    "elements": [{"price_components": [
        {"type": "FLAT", "price": 0.50, "vat": 21.0, "step_size": 1},
        {"type": "ENERGY", "price": 0.30, "vat": 21.0, "step_size": 1},
        {"type": "TIME", "price": 2.00, "vat": 21.0, "step_size": 60}]}],
}
CDR = {
    "start_date_time": "2026-03-02T09:00:00Z", "end_date_time": "2026-03-02T10:00:00Z",
    "charging_periods": [{"start_date_time": "2026-03-02T09:00:00Z", "dimensions": [
        {"type": "ENERGY", "volume": 10.0}, {"type": "TIME", "volume": 1.0}]}],
}


def check(report: dict) -> None:
    assert report["total_cost"] == {"excl_vat": 5.5, "incl_vat": 6.655}
    assert report["total_energy_cost"] == {"excl_vat": 3.0, "incl_vat": 3.63}
    assert report["total_time_cost"]["excl_vat"] == 2.0 and report["total_fixed_cost"]["excl_vat"] == 0.5
    assert report["total_energy"] == 10.0 and report["total_time"] == 1.0
    assert [c["type"] for c in report["periods"][0]["components"]] == ["FLAT", "ENERGY", "TIME"]


def test_price_command_prints_the_bill(tmp_path):
    (tmp_path / "tariff.json").write_text(json.dumps({"data": [TARIFF_221], "status_code": 1000}))
    (tmp_path / "cdr.json").write_text(json.dumps(CDR))
    out = subprocess.run([sys.executable, "-m", "ocpi_sandbox", "price", "--tariff", str(tmp_path / "tariff.json"),
                          "--cdr", str(tmp_path / "cdr.json"), "--time-zone", "Europe/Amsterdam"],
                         capture_output=True, text=True, check=True)
    report = json.loads(out.stdout)
    assert report["ocpi_version"] == "2.2.1"
    check(report)


def test_price_command_explains_bad_input(tmp_path):
    (tmp_path / "tariff.json").write_text(json.dumps({**TARIFF_221, "currency": 5}))
    (tmp_path / "cdr.json").write_text(json.dumps(CDR))
    out = subprocess.run([sys.executable, "-m", "ocpi_sandbox", "price", "--tariff", str(tmp_path / "tariff.json"),
                          "--cdr", str(tmp_path / "cdr.json")], capture_output=True, text=True)
    assert out.returncode == 1 and "currency" in out.stderr


async def test_pricing_api_gives_the_same_bill(sandbox: Sandbox):
    reply = await sandbox.api.post("/api/pricing", json={"tariff": TARIFF_221, "cdr": CDR,
                                                         "time_zone": "Europe/Amsterdam"})
    assert reply.status_code == 200, reply.text
    check(reply.json())
    tariff_230 = {**TARIFF_221, "tax_included": "NO"}
    reply = await sandbox.api.post("/api/pricing", json={"tariff": tariff_230, "cdr": CDR, "ocpi_version": "2.3.0"})
    check(reply.json())
    bad = await sandbox.api.post("/api/pricing", json={"tariff": TARIFF_221, "cdr": {**CDR, "charging_periods": []}})
    assert bad.status_code == 422 and "charging_periods" in bad.json()["message"]
