"""OCPI 2.2.1 wire types: realistic objects round-trip, violations are rejected, every Struct has a schema."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from datetime import UTC, datetime, timedelta

import jsonschema
import msgspec
import pytest

from ocpi_sandbox.ocpi import v221
from ocpi_sandbox.ocpi.v221 import (
    cdrs,
    chargingprofiles,
    commands,
    locations,
    sessions,
    tariffs,
    tokens,
    types,
)

START = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)


def decode(raw: bytes | str, type_: type) -> object:
    """Decode the way the OCPI edge does: strict about types, tolerant of unknown fields."""
    return msgspec.json.decode(raw, type=type_, strict=True)


def assert_round_trips(obj: msgspec.Struct) -> dict:
    """Encode, decode strictly back to the same type, compare; return the JSON as a dict for inspection."""
    raw = msgspec.json.encode(obj)
    assert decode(raw, type(obj)) == obj
    return msgspec.json.decode(raw)


def assert_matches_exported_schema(obj: msgspec.Struct) -> None:
    """Check what we emit against the JSON Schema exported from its type (what eMSP teams validate with)."""
    schema = msgspec.json.schema(type(obj))
    jsonschema.Draft202012Validator(schema).validate(msgspec.json.decode(msgspec.json.encode(obj)))


def all_version_modules(package) -> list:
    names = [m.name for m in pkgutil.iter_modules(package.__path__)]
    return [importlib.import_module(f"{package.__name__}.{name}") for name in names]


def structs_in(module) -> list[type[msgspec.Struct]]:
    return [
        obj
        for name in module.__all__
        if inspect.isclass(obj := getattr(module, name)) and issubclass(obj, msgspec.Struct)
    ]


# --- realistic objects --------------------------------------------------------------------------------------


def make_connector(**overrides) -> locations.Connector:
    fields = dict(
        id="1",
        standard="IEC_62196_T2",
        format="SOCKET",
        power_type="AC_3_PHASE",
        max_voltage=230,
        max_amperage=32,
        max_electric_power=22000,
        tariff_ids=["T-AC-22"],
        terms_and_conditions="https://sandbox.example.com/terms",
        last_updated=START,
    )
    return locations.Connector(**(fields | overrides))


def make_evse(**overrides) -> locations.EVSE:
    fields = dict(
        uid="EVSE-1",
        evse_id="NL*SBX*E0001*1",
        status="AVAILABLE",
        status_schedule=[
            locations.StatusSchedule(
                period_begin=START + timedelta(days=7),
                period_end=START + timedelta(days=8),
                status="INOPERATIVE",
            )
        ],
        capabilities=["RFID_READER", "REMOTE_START_STOP_CAPABLE", "RESERVABLE", "CHARGING_PROFILE_CAPABLE"],
        connectors=[make_connector()],
        floor_level="-1",
        coordinates=types.GeoLocation(latitude="52.3731340", longitude="4.8925890"),
        physical_reference="1",
        directions=[types.DisplayText(language="en", text="Second bay on the left")],
        parking_restrictions=["EV_ONLY"],
        images=[types.Image(url="https://sandbox.example.com/evse-1.png", category="CHARGER", type="png")],
        last_updated=START,
    )
    return locations.EVSE(**(fields | overrides))


def make_location(**overrides) -> locations.Location:
    fields = dict(
        country_code="NL",
        party_id="SBX",
        id="LOC1",
        publish=True,
        name="Sandbox Dam Square",
        address="Dam 1",
        city="Amsterdam",
        postal_code="1012 JS",
        country="NLD",
        coordinates=types.GeoLocation(latitude="52.37312", longitude="4.89259"),
        related_locations=[
            types.AdditionalGeoLocation(
                latitude="52.373200",
                longitude="4.892700",
                name=types.DisplayText(language="en", text="Garage entrance"),
            )
        ],
        parking_type="PARKING_GARAGE",
        evses=[make_evse()],
        operator=types.BusinessDetails(name="Sandbox CPO", website="https://sandbox.example.com"),
        facilities=["CAFE", "WIFI"],
        time_zone="Europe/Amsterdam",
        opening_times=types.Hours(
            twentyfourseven=False,
            regular_hours=[
                types.RegularHours(weekday=day, period_begin="07:00", period_end="23:00")
                for day in range(1, 8)
            ],
            exceptional_closings=[
                types.ExceptionalPeriod(
                    period_begin=datetime(2025, 12, 25, tzinfo=UTC),
                    period_end=datetime(2025, 12, 26, tzinfo=UTC),
                )
            ],
        ),
        charging_when_closed=True,
        energy_mix=types.EnergyMix(
            is_green_energy=True,
            energy_sources=[
                types.EnergySource(source="SOLAR", percentage=60.0),
                types.EnergySource(source="WIND", percentage=40.0),
            ],
            environ_impact=[types.EnvironmentalImpact(category="CARBON_DIOXIDE", amount=0.0)],
            supplier_name="Green Sandbox Energy",
        ),
        last_updated=START,
    )
    return locations.Location(**(fields | overrides))


def make_token(**overrides) -> tokens.Token:
    fields = dict(
        country_code="DE",
        party_id="EMP",
        uid="04A1B2C3D4",
        type="RFID",
        contract_id="DE-EMP-C12345678-X",
        visual_number="DE-EMP-000123",
        issuer="Example eMobility",
        group_id="FLEET-7",
        valid=True,
        whitelist="ALLOWED",
        language="de",
        default_profile_type="GREEN",
        energy_contract=tokens.EnergyContract(supplier_name="Stadtwerke Beispiel", contract_id="SW-998877"),
        last_updated=START,
    )
    return tokens.Token(**(fields | overrides))


def make_cdr_token() -> sessions.CdrToken:
    return sessions.CdrToken(
        country_code="DE", party_id="EMP", uid="04A1B2C3D4", type="RFID", contract_id="DE-EMP-C12345678-X"
    )


def make_periods() -> list[sessions.ChargingPeriod]:
    return [
        sessions.ChargingPeriod(
            start_date_time=START,
            dimensions=[
                sessions.CdrDimension(type="ENERGY", volume=11.0),
                sessions.CdrDimension(type="TIME", volume=1.0),
                sessions.CdrDimension(type="MAX_POWER", volume=11.2),
            ],
            tariff_id="T-AC-22",
        ),
        sessions.ChargingPeriod(
            start_date_time=START + timedelta(hours=1),
            dimensions=[sessions.CdrDimension(type="PARKING_TIME", volume=0.5)],
            tariff_id="T-AC-22",
        ),
    ]


def make_session(**overrides) -> sessions.Session:
    fields = dict(
        country_code="NL",
        party_id="SBX",
        id="S-0001",
        start_date_time=START,
        end_date_time=START + timedelta(hours=1, minutes=30),
        kwh=11.0,
        cdr_token=make_cdr_token(),
        auth_method="AUTH_REQUEST",
        authorization_reference="AUTH-7781",
        location_id="LOC1",
        evse_uid="EVSE-1",
        connector_id="1",
        meter_id="METER-0001",
        currency="EUR",
        charging_periods=make_periods(),
        total_cost=types.Price(excl_vat=4.75, incl_vat=5.75),
        status="COMPLETED",
        last_updated=START + timedelta(hours=1, minutes=30),
    )
    return sessions.Session(**(fields | overrides))


def make_tariff(**overrides) -> tariffs.Tariff:
    fields = dict(
        country_code="NL",
        party_id="SBX",
        id="T-AC-22",
        currency="EUR",
        type="REGULAR",
        tariff_alt_text=[types.DisplayText(language="en", text="0.25/kWh, 2.00/h parking after 1 hour")],
        tariff_alt_url="https://sandbox.example.com/tariffs/T-AC-22",
        min_price=types.Price(excl_vat=0.5, incl_vat=0.61),
        max_price=types.Price(excl_vat=50.0, incl_vat=60.5),
        elements=[
            tariffs.TariffElement(
                price_components=[
                    tariffs.PriceComponent(type="FLAT", price=0.5, vat=21.0, step_size=1),
                    tariffs.PriceComponent(type="ENERGY", price=0.25, vat=21.0, step_size=1),
                ],
            ),
            tariffs.TariffElement(
                price_components=[
                    tariffs.PriceComponent(type="PARKING_TIME", price=2.0, vat=21.0, step_size=300)
                ],
                restrictions=tariffs.TariffRestrictions(
                    start_time="09:00",
                    end_time="00:00",
                    start_date="2025-01-01",
                    end_date="2026-01-01",
                    min_kwh=0.0,
                    max_power=22.0,
                    min_duration=3600,
                    day_of_week=["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"],
                ),
            ),
            tariffs.TariffElement(
                price_components=[tariffs.PriceComponent(type="TIME", price=5.0, step_size=60)],
                restrictions=tariffs.TariffRestrictions(reservation="RESERVATION"),
            ),
        ],
        start_date_time=datetime(2025, 1, 1, tzinfo=UTC),
        energy_mix=types.EnergyMix(is_green_energy=False),
        last_updated=START,
    )
    return tariffs.Tariff(**(fields | overrides))


def make_cdr(**overrides) -> cdrs.CDR:
    fields = dict(
        country_code="NL",
        party_id="SBX",
        id="CDR-0001",
        start_date_time=START,
        end_date_time=START + timedelta(hours=1, minutes=30),
        session_id="S-0001",
        cdr_token=make_cdr_token(),
        auth_method="AUTH_REQUEST",
        authorization_reference="AUTH-7781",
        cdr_location=cdrs.CdrLocation(
            id="LOC1",
            name="Sandbox Dam Square",
            address="Dam 1",
            city="Amsterdam",
            postal_code="1012 JS",
            country="NLD",
            coordinates=types.GeoLocation(latitude="52.37312", longitude="4.89259"),
            evse_uid="EVSE-1",
            evse_id="NL*SBX*E0001*1",
            connector_id="1",
            connector_standard="IEC_62196_T2",
            connector_format="SOCKET",
            connector_power_type="AC_3_PHASE",
        ),
        meter_id="METER-0001",
        currency="EUR",
        tariffs=[make_tariff()],
        charging_periods=make_periods(),
        signed_data=cdrs.SignedData(
            encoding_method="OCMF",
            encoding_method_version=1,
            public_key="MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE",
            signed_values=[
                cdrs.SignedValue(nature="Start", plain_data="OCMF|{...start...}", signed_data="MEUCIQ=="),
                cdrs.SignedValue(nature="End", plain_data="OCMF|{...end...}", signed_data="MEQCIA=="),
            ],
            url="https://sandbox.example.com/transparency/CDR-0001",
        ),
        total_cost=types.Price(excl_vat=4.75, incl_vat=5.75),
        total_fixed_cost=types.Price(excl_vat=0.5, incl_vat=0.61),
        total_energy=11.0,
        total_energy_cost=types.Price(excl_vat=2.75, incl_vat=3.33),
        total_time=1.5,
        total_parking_time=0.5,
        total_parking_cost=types.Price(excl_vat=1.5, incl_vat=1.82),
        remark="Sandbox session",
        last_updated=START + timedelta(hours=1, minutes=31),
    )
    return cdrs.CDR(**(fields | overrides))


# --- round trips --------------------------------------------------------------------------------------------


def test_location_with_evse_and_connector_round_trips_with_string_coordinates_and_no_absent_fields():
    location = make_location()

    wire = assert_round_trips(location)

    assert wire["coordinates"] == {"latitude": "52.37312", "longitude": "4.89259"}
    assert wire["evses"][0]["connectors"][0]["standard"] == "IEC_62196_T2"
    assert wire["last_updated"] == "2025-03-03T08:00:00Z"
    assert "state" not in wire and "suboperator" not in wire  # absent optionals are omitted, not null
    assert_matches_exported_schema(location)


def test_evse_and_connector_round_trip_on_their_own_for_evse_level_pushes():
    assert_round_trips(make_evse())
    assert_round_trips(make_connector(max_electric_power=None, tariff_ids=None))


def test_unpublished_location_names_the_tokens_allowed_to_see_it():
    location = make_location(
        publish=False,
        publish_allowed_to=[
            locations.PublishTokenType(uid="04A1B2C3D4", type="RFID"),
            locations.PublishTokenType(visual_number="DE-EMP-000123", issuer="Example eMobility"),
            locations.PublishTokenType(group_id="FLEET-7"),
        ],
    )
    assert assert_round_trips(location)["publish_allowed_to"][2] == {"group_id": "FLEET-7"}


def test_session_with_charging_periods_round_trips():
    session = make_session()

    wire = assert_round_trips(session)

    assert wire["total_cost"] == {"excl_vat": 4.75, "incl_vat": 5.75}
    assert [d["type"] for d in wire["charging_periods"][0]["dimensions"]] == ["ENERGY", "TIME", "MAX_POWER"]
    assert_matches_exported_schema(session)


def test_first_session_push_from_the_reference_decodes_with_integer_kwh():
    raw = """{
      "country_code": "NL", "party_id": "SBX", "id": "S-0001",
      "start_date_time": "2025-03-03T08:00:00Z", "kwh": 0,
      "cdr_token": {"country_code": "DE", "party_id": "EMP", "uid": "04A1B2C3D4", "type": "RFID",
                    "contract_id": "DE-EMP-C12345678-X"},
      "auth_method": "AUTH_REQUEST", "authorization_reference": "AUTH-7781",
      "location_id": "LOC1", "evse_uid": "EVSE-1", "connector_id": "1",
      "currency": "EUR", "status": "ACTIVE", "last_updated": "2025-03-03T08:00:05Z"
    }"""
    session = decode(raw, sessions.Session)
    assert session.kwh == 0.0 and isinstance(session.kwh, float)
    assert session.start_date_time == START
    assert session.charging_periods is None and session.total_cost is None


def test_reservation_session_may_use_na_for_evse_and_connector():
    session = make_session(status="RESERVATION", evse_uid="#NA", connector_id="#NA", charging_periods=None)
    assert assert_round_trips(session)["evse_uid"] == "#NA"


def test_charging_preferences_round_trip():
    preferences = sessions.ChargingPreferences(
        profile_type="FAST",
        departure_time=START + timedelta(hours=2),
        energy_need=30.0,
        discharge_allowed=False,
    )
    assert_round_trips(preferences)


def test_tariff_with_restrictions_round_trips():
    tariff = make_tariff()

    wire = assert_round_trips(tariff)

    assert wire["elements"][1]["restrictions"]["day_of_week"][0] == "MONDAY"
    assert wire["min_price"] == {"excl_vat": 0.5, "incl_vat": 0.61}
    assert "vat" not in wire["elements"][2]["price_components"][0]  # absent VAT is not 0.0
    assert_matches_exported_schema(tariff)


def test_free_of_charge_tariff_is_one_flat_component_at_zero():
    free = make_tariff(
        id="FREE",
        type=None,
        min_price=None,
        max_price=None,
        elements=[
            tariffs.TariffElement(
                price_components=[tariffs.PriceComponent(type="FLAT", price=0, step_size=0)]
            )
        ],
    )
    flat = {"type": "FLAT", "price": 0.0, "step_size": 0}
    assert assert_round_trips(free)["elements"] == [{"price_components": [flat]}]


def test_cdr_with_embedded_tariff_and_signed_data_round_trips():
    cdr = make_cdr()

    wire = assert_round_trips(cdr)

    assert wire["cdr_location"]["coordinates"]["latitude"] == "52.37312"
    assert wire["tariffs"][0]["id"] == "T-AC-22"
    assert wire["signed_data"]["signed_values"][1]["nature"] == "End"
    assert_matches_exported_schema(cdr)


def test_credit_cdr_may_use_a_39_character_id_and_negative_totals():
    credit = make_cdr(
        id="C" * 36 + "-CR",
        credit=True,
        credit_reference_id="CDR-0001",
        total_cost=types.Price(excl_vat=-4.75, incl_vat=-5.75),
    )
    assert assert_round_trips(credit)["total_cost"]["excl_vat"] == -4.75


def test_token_and_real_time_authorization_round_trip():
    token = make_token()
    references = tokens.LocationReferences(location_id="LOC1", evse_uids=["EVSE-1"])
    info = tokens.AuthorizationInfo(
        allowed="ALLOWED",
        token=token,
        location=references,
        authorization_reference="AUTH-7781",
        info=types.DisplayText(language="en", text="Welcome"),
    )

    assert_round_trips(token)
    assert assert_round_trips(references) == {"location_id": "LOC1", "evse_uids": ["EVSE-1"]}
    assert assert_round_trips(info)["token"]["uid"] == "04A1B2C3D4"
    assert_matches_exported_schema(info)


def test_token_invalidation_patch_body_is_not_a_full_token():
    # PATCH bodies are partial: decoding one as a Token must fail loudly, the controller handles partials.
    with pytest.raises(msgspec.ValidationError, match="missing required field"):
        decode(b'{"valid": false, "last_updated": "2025-03-03T08:00:00Z"}', tokens.Token)


@pytest.mark.parametrize(
    "command",
    [
        commands.StartSession(
            response_url="https://emsp.example.com/commands/START_SESSION/42",
            token=make_token(type="APP_USER", whitelist="NEVER"),
            location_id="LOC1",
            evse_uid="EVSE-1",
            connector_id="1",
            authorization_reference="AUTH-42",
        ),
        commands.StopSession(
            response_url="https://emsp.example.com/commands/STOP_SESSION/43", session_id="S-0001"
        ),
        commands.ReserveNow(
            response_url="https://emsp.example.com/commands/RESERVE_NOW/44",
            token=make_token(),
            expiry_date=START + timedelta(minutes=30),
            reservation_id="R-1",
            location_id="LOC1",
            evse_uid="EVSE-1",
        ),
        commands.CancelReservation(
            response_url="https://emsp.example.com/commands/CANCEL_RESERVATION/45", reservation_id="R-1"
        ),
        commands.UnlockConnector(
            response_url="https://emsp.example.com/commands/UNLOCK_CONNECTOR/46",
            location_id="LOC1",
            evse_uid="EVSE-1",
            connector_id="1",
        ),
        commands.CommandResponse(result="ACCEPTED", timeout=30),
        commands.CommandResponse(
            result="REJECTED", timeout=0, message=[types.DisplayText(language="en", text="Unknown location")]
        ),
        commands.CommandResult(result="CANCELED_RESERVATION"),
    ],
    ids=lambda command: type(command).__name__,
)
def test_every_command_and_answer_round_trips(command):
    assert_round_trips(command)
    assert_matches_exported_schema(command)


def test_command_result_body_from_the_spec_decodes():
    expected = commands.CommandResult(result="ACCEPTED")
    assert decode(b'{"result": "ACCEPTED"}', commands.CommandResult) == expected
    assert set(commands.COMMAND_TYPES) == {
        "CANCEL_RESERVATION",
        "RESERVE_NOW",
        "START_SESSION",
        "STOP_SESSION",
        "UNLOCK_CONNECTOR",
    }


def test_charging_profile_objects_round_trip():
    profile = chargingprofiles.ChargingProfile(
        start_date_time=START,
        duration=3600,
        charging_rate_unit="A",
        min_charging_rate=6.0,
        charging_profile_period=[
            chargingprofiles.ChargingProfilePeriod(start_period=0, limit=16.0),
            chargingprofiles.ChargingProfilePeriod(start_period=1800, limit=10.5),
        ],
    )
    active = chargingprofiles.ActiveChargingProfile(start_date_time=START, charging_profile=profile)
    for obj in (
        chargingprofiles.SetChargingProfile(
            charging_profile=profile, response_url="https://scsp.example.com/profiles/S-0001/1"
        ),
        chargingprofiles.ChargingProfileResponse(result="ACCEPTED", timeout=30),
        chargingprofiles.ActiveChargingProfileResult(result="ACCEPTED", profile=active),
        chargingprofiles.ChargingProfileResult(result="REJECTED"),
        chargingprofiles.ClearProfileResult(result="UNKNOWN"),
        active,
    ):
        assert_round_trips(obj)


# --- tolerance ----------------------------------------------------------------------------------------------


def test_unknown_fields_are_ignored_on_decode():
    raw = msgspec.json.encode(make_connector())[:-1] + b', "x_vendor_extension": {"anything": [1, 2]}}'
    assert decode(raw, locations.Connector) == make_connector()


@pytest.mark.parametrize("absent_null_or_empty", [None, [], "omit"])
def test_optional_lists_may_be_absent_null_or_empty(absent_null_or_empty):
    wire = msgspec.json.decode(msgspec.json.encode(make_location(evses=None, facilities=None)))
    if absent_null_or_empty != "omit":
        wire["evses"] = wire["facilities"] = absent_null_or_empty
    location = decode(msgspec.json.encode(wire), locations.Location)
    assert location.evses in (None, [])


def test_unknown_connector_type_is_rejected_in_2_2_1():
    wire = _location_wire(evses__0__connectors__0__standard="FUTURE_PLUG_X")
    with pytest.raises(msgspec.ValidationError, match=r"\$.evses\[0\].connectors\[0\].standard"):
        decode(msgspec.json.encode(wire), locations.Location)
    assert "MCS" not in types.CONNECTOR_TYPES


def test_role_hub_still_exists_in_2_2_1():
    assert decode(b'"HUB"', types.Role) == "HUB"


# --- violations ---------------------------------------------------------------------------------------------


def _location_wire(**changes) -> dict:
    wire = msgspec.json.decode(msgspec.json.encode(make_location()))
    for path, value in changes.items():
        target = wire
        *parents, leaf = path.split("__")
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        target[leaf] = value
    return wire


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"coordinates__latitude": "52.37"}, r"\$.coordinates.latitude"),  # 2 decimals: the spec wants 5 to 7
        ({"coordinates__latitude": "152.37312"}, r"\$.coordinates.latitude"),  # 3 integer digits
        ({"coordinates__longitude": 4.89259}, r"Expected `str`, got `float`"),  # a number, not a string
        ({"party_id": "SBXX"}, r"\$.party_id"),  # CiString(3)
        ({"country_code": "NĹ"}, r"\$.country_code"),  # CiString is printable ASCII only
        ({"name": "x" * 256}, r"\$.name"),  # string(255)
        ({"evses__0__connectors": []}, r"\$.evses\[0\].connectors"),  # `+` list must not be empty
        ({"evses__0__status": "BROKEN"}, r"\$.evses\[0\].status"),  # closed enum
        ({"evses__0__connectors__0__standard": "MCS"}, r"standard"),  # MCS only exists from 2.3.0
        ({"evses__0__connectors__0__max_voltage": "230"}, r"Expected `int`, got `str`"),  # strict types
        ({"opening_times__regular_hours__0__weekday": 8}, r"weekday"),
        ({"opening_times__regular_hours__0__period_end": "24:00"}, r"period_end"),
        ({"energy_mix__energy_sources__0__percentage": 101}, r"percentage"),
        ({"last_updated": "yesterday"}, r"last_updated"),
    ],
)
def test_location_violating_the_spec_is_rejected_with_the_path_of_the_bad_field(change, expected):
    with pytest.raises(msgspec.ValidationError, match=expected):
        decode(msgspec.json.encode(_location_wire(**change)), locations.Location)


def test_missing_required_time_zone_is_rejected():
    wire = _location_wire()
    del wire["time_zone"]
    with pytest.raises(msgspec.ValidationError, match="time_zone"):
        decode(msgspec.json.encode(wire), locations.Location)


def test_cdr_needs_at_least_one_charging_period():
    wire = msgspec.json.decode(msgspec.json.encode(make_cdr()))
    wire["charging_periods"] = []
    with pytest.raises(msgspec.ValidationError, match=r"charging_periods"):
        decode(msgspec.json.encode(wire), cdrs.CDR)


def test_cdr_token_of_type_emaid_is_a_2_3_0_value():
    wire = msgspec.json.decode(msgspec.json.encode(make_cdr_token())) | {"type": "EMAID"}
    with pytest.raises(msgspec.ValidationError, match=r"\$.type"):
        decode(msgspec.json.encode(wire), sessions.CdrToken)


@pytest.mark.parametrize(
    ("field", "value"), [("start_time", "9:00"), ("start_date", "2025-13-01"), ("day_of_week", ["MON"])]
)
def test_tariff_restrictions_with_malformed_values_are_rejected(field, value):
    with pytest.raises(msgspec.ValidationError, match=field):
        decode(msgspec.json.encode({field: value}), tariffs.TariffRestrictions)


def test_tariff_needs_at_least_one_element_with_at_least_one_component():
    wire = msgspec.json.decode(msgspec.json.encode(make_tariff()))
    with pytest.raises(msgspec.ValidationError, match=r"\$.elements"):
        decode(msgspec.json.encode(wire | {"elements": []}), tariffs.Tariff)
    wire["elements"][0]["price_components"] = []
    with pytest.raises(msgspec.ValidationError, match=r"price_components"):
        decode(msgspec.json.encode(wire), tariffs.Tariff)


def test_price_is_excl_vat_and_incl_vat_in_2_2_1():
    expected = types.Price(excl_vat=4.0, incl_vat=4.4)
    assert decode(b'{"excl_vat": 4.0, "incl_vat": 4.4}', types.Price) == expected
    with pytest.raises(msgspec.ValidationError, match="excl_vat"):
        decode(b'{"before_taxes": 4.0, "taxes": []}', types.Price)


def test_command_with_relative_response_url_is_rejected():
    with pytest.raises(msgspec.ValidationError, match="response_url"):
        decode(b'{"response_url": "/commands/STOP_SESSION/1", "session_id": "S-1"}', commands.StopSession)


# --- module hygiene and schema export -----------------------------------------------------------------------

MODULES = [types, locations, sessions, cdrs, tariffs, tokens, commands, chargingprofiles]


@pytest.mark.parametrize("module", all_version_modules(v221), ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_every_struct_in_every_module_exports_a_json_schema(module):
    structs = structs_in(module)
    schemas, components = msgspec.json.schema_components(structs)
    assert len(schemas) == len(structs)
    for component in components.values():
        jsonschema.Draft202012Validator.check_schema(component)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_module_lists_every_struct_in_all_and_cites_the_spec(module):
    defined = {
        name
        for name, obj in vars(module).items()
        if inspect.isclass(obj) and issubclass(obj, msgspec.Struct) and obj.__module__ == module.__name__
    }
    assert defined <= set(module.__all__)
    assert all(hasattr(module, name) for name in module.__all__)
    for struct in structs_in(module):
        first_line = struct.__doc__.strip().splitlines()[0]
        assert first_line.startswith("OCPI 2.2.1 ") and f" {struct.__name__} " in first_line, first_line
        parameters = inspect.signature(struct).parameters.values()
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters), struct


def test_struct_names_are_unique_across_the_version_so_exported_schema_names_are_stable():
    structs = [s for module in all_version_modules(v221) for s in structs_in(module)]
    names = [s.__name__ for s in set(structs)]
    assert len(names) == len(set(names))
