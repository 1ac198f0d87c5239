"""The pagination helper every OCPI list uses (OCPI 2.2.1 transport_and_format, Pagination)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ocpi_sandbox.ocpi.errors import OcpiError
from ocpi_sandbox.ocpi.pagination import page_headers, read_page


def test_limit_is_capped_and_defaults_to_the_cap():
    assert read_page({}, max_limit=50).limit == 50
    assert read_page({"limit": "2000"}, max_limit=50).limit == 50
    assert read_page({"limit": "10", "offset": "20"}, max_limit=50).offset == 20


def test_dates_are_parsed_as_utc_with_or_without_z():
    page = read_page({"date_from": "2026-01-01T10:00:00", "date_to": "2026-01-02T10:00:00.5Z"}, max_limit=50)
    assert page.date_from == datetime(2026, 1, 1, 10, tzinfo=UTC)
    assert page.date_to == datetime(2026, 1, 2, 10, 0, 0, 500000, tzinfo=UTC)


@pytest.mark.parametrize("params", [{"offset": "-1"}, {"limit": "ten"}, {"date_from": "yesterday"}])
def test_bad_parameters_are_2001_naming_the_parameter(params):
    with pytest.raises(OcpiError) as raised:
        read_page(params, max_limit=50)
    assert raised.value.status_code == 2001 and next(iter(params)) in raised.value.message


def test_date_from_can_be_required():
    with pytest.raises(OcpiError):
        read_page({}, max_limit=50, require_date_from=True)


def test_link_repeats_filters_with_next_offset_and_used_limit():
    params = {"date_from": "2026-01-01T00:00:00Z", "limit": "2000"}
    page = read_page(params, max_limit=100)
    headers = page_headers("https://sbx.example/ocpi/2.2.1/cdrs", params, page, total=250, max_limit=100)
    assert headers["X-Total-Count"] == "250" and headers["X-Limit"] == "100"
    assert headers["Link"] == ('<https://sbx.example/ocpi/2.2.1/cdrs?date_from=2026-01-01T00%3A00%3A00Z'
                               '&offset=100&limit=100>; rel="next"')


def test_last_page_has_no_link_and_offset_beyond_end_is_fine():
    last = page_headers("u", {}, read_page({"offset": "200"}, max_limit=100), total=250, max_limit=100)
    assert "Link" not in last
    beyond = page_headers("u", {}, read_page({"offset": "900"}, max_limit=100), total=250, max_limit=100)
    assert "Link" not in beyond and beyond["X-Total-Count"] == "250"
