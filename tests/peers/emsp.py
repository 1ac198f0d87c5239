"""A small eMSP for tests, served over real HTTP: versions, version details and credentials, both roles.

It records every request it receives, accepts only the tokens it knows (Base64 unless told otherwise), and
when the sandbox registers with it (POST credentials with its token A) it calls the sandbox's versions back
with the token the sandbox gave, as a real eMSP must.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

import httpx
import msgspec
from litestar import Litestar, Request, Response, delete, get, patch, post, put

from tests.peers.ocpi_schemas import schema_problems

EMSP_ROLE = {"role": "EMSP", "party_id": "EMP", "country_code": "DE",
             "business_details": {"name": "Test eMSP"}}


def envelope(data: Any = None, status_code: int = 1000, http_status: int = 200) -> Response:
    body: dict[str, Any] = {"status_code": status_code, "timestamp": "2026-01-01T00:00:00Z"}
    if data is not None:
        body["data"] = data
    return Response(body, status_code=http_status)


class FakeEmsp:
    def __init__(self, versions: tuple[str, ...] = ("2.2.1", "2.3.0"), *, raw_tokens: bool = False) -> None:
        self.versions = versions
        self.raw_tokens = raw_tokens           # expect unencoded tokens (a 2.1.1-style peer)
        self.accepted_tokens: set[str] = set()
        self.token_b = "emsp-token-b-" + secrets.token_hex(8)  # what we give the sandbox in case A
        self.token_a = "emsp-token-a-" + secrets.token_hex(8)  # what the sandbox gets from us in case B
        self.token_c = "emsp-token-c-" + secrets.token_hex(8)  # what we return to the sandbox in case B
        self.accepted_tokens |= {self.token_b, self.token_a}
        self.received: list[dict[str, Any]] = []
        self.sandbox_token: str | None = None  # the token the sandbox told us to use (case B)
        self.callback_status: int | None = None
        self.command_results: dict[str, dict] = {}  # response_url path tail -> CommandResult body
        self.profile_results: dict[str, dict] = {}  # response_url path tail -> charging profile result body
        self.pushes: list[tuple[str, str, dict]] = []  # (method, path, body) of every push received, in order
        self.down = False  # answer pushes with 503 + Retry-After: 1, as an eMSP in maintenance would
        # Real-time authorization answers by token uid: an AllowedType, or absent for "unknown token" (2004).
        self.authorizations: dict[str, str] = {}
        self.authorize_requests: list[tuple[str, dict | None]] = []
        # Every body the sandbox sent that is not valid against ocpi_modules/<version>/schemas (should stay empty).
        self.schema_errors: list[str] = []
        self.base_url = ""

    # --- what a test hands the sandbox ---------------------------------------------------------------------
    @property
    def versions_url(self) -> str:
        return f"{self.base_url}/emsp/versions"

    def credentials(self, token: str | None = None) -> dict[str, Any]:
        return {"token": token or self.token_b, "url": self.versions_url, "roles": [EMSP_ROLE]}

    def authorization_values(self) -> list[str | None]:
        return [r["authorization"] for r in self.received]

    # --- the HTTP side -------------------------------------------------------------------------------------
    def _token(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Token "):
            return None
        value = header[len("Token "):]
        if self.raw_tokens:
            return value
        try:
            return base64.b64decode(value, validate=True).decode()
        except ValueError:
            return None

    def _check(self, request: Request) -> Response | None:
        self.received.append({"method": request.method, "path": request.url.path,
                              "authorization": request.headers.get("authorization")})
        if self._token(request) not in self.accepted_tokens:
            return envelope(status_code=2000, http_status=401)
        return None

    def app(self, base_url: str) -> Litestar:
        self.base_url = base_url
        emsp = self

        @get("/emsp/versions")
        async def versions(request: Request) -> Response:
            return emsp._check(request) or envelope(
                [{"version": v, "url": f"{emsp.base_url}/emsp/{v}"} for v in emsp.versions])

        @get("/emsp/{version:str}")
        async def details(request: Request, version: str) -> Response:
            if problem := emsp._check(request):
                return problem
            base = f"{emsp.base_url}/emsp/{version}"
            return envelope({"version": version, "endpoints": [
                {"identifier": "credentials", "role": "SENDER", "url": f"{base}/credentials"},
                {"identifier": "locations", "role": "RECEIVER", "url": f"{base}/locations"},
                {"identifier": "tokens", "role": "SENDER", "url": f"{base}/tokens"},
                {"identifier": "sessions", "role": "RECEIVER", "url": f"{base}/sessions"},
                {"identifier": "cdrs", "role": "RECEIVER", "url": f"{base}/cdrs"},
                {"identifier": "tariffs", "role": "RECEIVER", "url": f"{base}/tariffs"},
                {"identifier": "chargingprofiles", "role": "SENDER", "url": f"{base}/chargingprofiles"},
            ]})

        @post("/emsp/{version:str}/credentials")
        async def register(request: Request, version: str) -> Response:
            if problem := emsp._check(request):
                return problem
            body = msgspec.json.decode(await request.body())
            emsp.sandbox_token = body["token"]
            # A real eMSP fetches the registering party's versions with the token it was just given.
            header = body["token"] if emsp.raw_tokens else base64.b64encode(body["token"].encode()).decode()
            async with httpx.AsyncClient() as client:
                reply = await client.get(body["url"], headers={"Authorization": f"Token {header}"})
            emsp.callback_status = reply.status_code
            if reply.status_code != 200:
                return envelope(status_code=3001)
            emsp.accepted_tokens.discard(emsp.token_a)
            emsp.accepted_tokens.add(emsp.token_c)
            return envelope(emsp.credentials(emsp.token_c))

        @post("/emsp/results/{ref:str}")
        async def command_result(request: Request, ref: str) -> Response:
            if problem := emsp._check(request):
                return problem
            emsp.command_results[ref] = msgspec.json.decode(await request.body())
            for version in emsp.versions:  # CommandResult is the same object in both versions
                emsp.schema_errors += schema_problems(version, "CommandResult", emsp.command_results[ref])
            return envelope()

        @post("/emsp/profile-results/{kind:str}/{ref:str}")
        async def profile_result(request: Request, kind: str, ref: str) -> Response:
            if problem := emsp._check(request):
                return problem
            body = emsp.profile_results[ref] = msgspec.json.decode(await request.body())
            name = {"active": "ActiveChargingProfileResult", "set": "ChargingProfileResult",
                    "clear": "ClearProfileResult"}[kind]
            for version in emsp.versions:  # the same objects in both versions
                emsp.schema_errors += schema_problems(version, name, body)
            return envelope()

        @put("/emsp/{version:str}/chargingprofiles/{sid:str}")
        async def active_profile_put(request: Request, version: str, sid: str) -> Response:
            return await receive_push(request)

        async def receive_push(request: Request) -> Response:
            if problem := emsp._check(request):
                return problem
            if emsp.down:
                return Response({"status_code": 3000, "timestamp": "2026-01-01T00:00:00Z"}, status_code=503,
                                headers={"Retry-After": "1"})
            raw = await request.body()
            body = msgspec.json.decode(raw) if raw else None
            emsp.pushes.append((request.method, request.url.path, body))
            emsp.schema_errors += emsp._validate(request.method, request.url.path, body)
            if request.method == "POST":  # a CDR: say where it is kept, as mod_cdrs asks
                return Response({"status_code": 1000, "timestamp": "2026-01-01T00:00:00Z"},
                                headers={"Location": f"{emsp.base_url}/emsp/cdrs/{body['id']}"})
            return envelope()

        @post("/emsp/{version:str}/tokens/{uid:str}/authorize")
        async def authorize(request: Request, version: str, uid: str) -> Response:
            if problem := emsp._check(request):
                return problem
            raw = await request.body()
            emsp.authorize_requests.append((uid, msgspec.json.decode(raw) if raw else None))
            if raw:
                emsp.schema_errors += schema_problems(version, "LocationReferences", msgspec.json.decode(raw))
            if emsp.down:
                return Response({"status_code": 3000, "timestamp": "2026-01-01T00:00:00Z"}, status_code=503)
            allowed = emsp.authorizations.get(uid)
            if allowed is None:
                return envelope(status_code=2004, http_status=404)
            token = {"country_code": "DE", "party_id": "EMP", "uid": uid, "type": "RFID", "contract_id": "DE-EMP-RT",
                     "issuer": "Test eMSP", "valid": True, "whitelist": "NEVER", "last_updated": "2026-11-01T00:00:00Z"}
            return envelope({"allowed": allowed, "token": token, "authorization_reference": f"REF-{uid}"})

        @put("/emsp/{version:str}/sessions/{cc:str}/{pid:str}/{sid:str}")
        async def session_put(request: Request, version: str, cc: str, pid: str, sid: str) -> Response:
            return await receive_push(request)

        @patch("/emsp/{version:str}/sessions/{cc:str}/{pid:str}/{sid:str}")
        async def session_patch(request: Request, version: str, cc: str, pid: str, sid: str) -> Response:
            return await receive_push(request)

        @post("/emsp/{version:str}/cdrs")
        async def cdr_post(request: Request, version: str) -> Response:
            return await receive_push(request)

        @patch("/emsp/{version:str}/locations/{cc:str}/{pid:str}/{loc:str}/{evse:str}")
        async def evse_patch(request: Request, version: str, cc: str, pid: str, loc: str, evse: str) -> Response:
            return await receive_push(request)

        @put("/emsp/{version:str}/locations/{cc:str}/{pid:str}/{loc:str}")
        async def location_put(request: Request, version: str, cc: str, pid: str, loc: str) -> Response:
            return await receive_push(request)

        @put("/emsp/{version:str}/locations/{cc:str}/{pid:str}/{loc:str}/{evse:str}")
        async def evse_put(request: Request, version: str, cc: str, pid: str, loc: str, evse: str) -> Response:
            return await receive_push(request)

        @put("/emsp/{version:str}/locations/{cc:str}/{pid:str}/{loc:str}/{evse:str}/{connector:str}")
        async def connector_put(request: Request, version: str, cc: str, pid: str, loc: str, evse: str,
                                connector: str) -> Response:
            return await receive_push(request)

        @put("/emsp/{version:str}/tariffs/{cc:str}/{pid:str}/{tariff:str}")
        async def tariff_put(request: Request, version: str, cc: str, pid: str, tariff: str) -> Response:
            return await receive_push(request)

        @delete("/emsp/{version:str}/tariffs/{cc:str}/{pid:str}/{tariff:str}", status_code=200)
        async def tariff_delete(request: Request, version: str, cc: str, pid: str, tariff: str) -> Response:
            return await receive_push(request)

        @put("/emsp/{version:str}/credentials")
        async def update(request: Request, version: str) -> Response:
            return emsp._check(request) or envelope(emsp.credentials(emsp.token_c))

        @delete("/emsp/{version:str}/credentials", status_code=200)
        async def unregister(request: Request, version: str) -> Response:
            return emsp._check(request) or envelope()

        return Litestar([versions, details, register, update, unregister, command_result, session_put,
                         session_patch, cdr_post, evse_patch, authorize, location_put, evse_put, connector_put,
                         tariff_put, tariff_delete, profile_result, active_profile_put])

    def _validate(self, method: str, path: str, body: Any) -> list[str]:
        """Check a pushed body against our published JSON Schemas; a PATCH may leave out required fields."""
        parts = path.split("/")  # /emsp/<version>/<module>/...
        version, module, depth = parts[2], parts[3], len(parts) - 4
        if method == "DELETE" or body is None and method != "POST":
            return []
        names = {"sessions": "Session", "cdrs": "CDR", "tariffs": "Tariff",
                 "chargingprofiles": "ActiveChargingProfile",
                 "locations": {3: "Location", 4: "EVSE", 5: "Connector"}.get(depth)}
        name = names.get(module)
        if name is None:
            return [f"{method} {path}: not a push this eMSP expects"]
        return schema_problems(version, name, body, partial=method == "PATCH")

    def response_url(self, ref: str) -> str:
        return f"{self.base_url}/emsp/results/{ref}"

    def profile_result_url(self, kind: str, ref: str) -> str:
        """Where the sandbox POSTs a charging profile result: ``kind`` active (GET), set (PUT), clear (DELETE)."""
        return f"{self.base_url}/emsp/profile-results/{kind}/{ref}"
