"""The QuickBooks Online simulator as a WSGI application: the API, Intuit's OAuth endpoints, and a control surface.

/v3/company/{realmId}/...          the Accounting API (reference, "Hosts and paths")
/connect/oauth2                    authorize (auto-consent, redirects with code, state and realmId)
/oauth2/v1/tokens/bearer           code exchange and refresh
/v2/oauth2/tokens/revoke           revoke
/_sim/...                          control surface for tests and demos (see README and `qbo-sim --help`)
"""

from __future__ import annotations

import base64
import copy
import json
import random
import threading
import time
from collections import deque
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from hirebooks.clock import ScaledClock
from simcore import jsonutil
from simcore.chaos import KINDS, Chaos
from simcore.server import DropConnection, ServerThread, drop_connection
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import faults as F
from . import query as Q
from .limits import Limiter, LimitSettings
from .model import ENTITIES, Change, Realm, cdc_floor
from .oauth import OAuthError, OAuthServer
from .seed import uk_realm, us_realm
from .webhooks import Dispatcher

REQUESTID_MAX = 50  # reference, Limits: "requestid at most 50 characters"
BATCH_REQUESTID_MAX = 36  # "(36 inside a batch; bId at most 10 characters when a batch requestid is sent)"
BID_MAX = 10
BATCH_MAX = 30  # "operations in one batch: 30"
CDC_MAX_OBJECTS = 1000  # "CDC: at most 1000 objects per response"

DEFAULT_CLIENT_ID = "hirebooks-local"
DEFAULT_CLIENT_SECRET = "hirebooks-local-secret"  # noqa: S105 - the simulator's own demo app, not a secret


class Counters:
    FIELDS = (
        "requests",
        "reads",
        "writes",
        "batches",
        "queries",
        "cdc",
        "throttled",
        "auth_failures",
        "replays",
        "faults_injected",
        "client_errors",
        "server_errors",
        "missing_minorversion",
        "objects_created",
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.total: dict[str, int] = dict.fromkeys(self.FIELDS, 0)
        self.by_realm: dict[str, dict[str, int]] = {}

    def add(self, realm: str | None, name: str, n: int = 1) -> None:
        with self._lock:
            self.total[name] += n
            if realm is not None:
                self.by_realm.setdefault(realm, dict.fromkeys(self.FIELDS, 0))[name] += n

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"total": dict(self.total), "realms": copy.deepcopy(self.by_realm)}


class QboSimulator:
    """All the simulator's state, its WSGI app, and start/stop on a loopback port."""

    def __init__(self, *, scale: float = 1.0, seed: int = 7) -> None:
        self.clock = ScaledClock(scale)
        self.realms: dict[str, Realm] = {}
        self.oauth = OAuthServer()
        self.oauth.add_client(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, ["http://127.0.0.1/callback"])
        self.limits = LimitSettings()
        self.limiter = Limiter(self.limits)
        self.chaos = Chaos(seed, tuple(k for k in KINDS if k != "silent_noop"))
        self.counters = Counters()
        self.log: deque[dict[str, Any]] = deque(maxlen=20000)
        self.webhooks = Dispatcher(self.clock.time, time.sleep)
        self.consent_realm: str | None = None
        self.consent_error: str | None = None
        self.shuffle_batches = True
        self.cdc_max_objects = CDC_MAX_OBJECTS
        self.auth_fault_format = "json"
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._server: ServerThread | None = None
        self.url_map = Map(
            [
                Rule("/v3/company/<realm>/query", endpoint="query", methods=["GET", "POST"]),
                Rule("/v3/company/<realm>/batch", endpoint="batch", methods=["POST"]),
                Rule("/v3/company/<realm>/cdc", endpoint="cdc", methods=["GET"]),
                Rule("/v3/company/<realm>/preferences", endpoint="preferences", methods=["GET"]),
                Rule("/v3/company/<realm>/<entity>", endpoint="write", methods=["POST"]),
                Rule("/v3/company/<realm>/<entity>/<entity_id>", endpoint="read", methods=["GET"]),
                Rule("/connect/oauth2", endpoint="authorize", methods=["GET"]),
                Rule("/oauth2/v1/tokens/bearer", endpoint="token", methods=["POST"]),
                Rule("/v2/oauth2/tokens/revoke", endpoint="revoke", methods=["POST"]),
                Rule("/_sim/health", endpoint="c_health", methods=["GET"]),
                Rule("/_sim/reset", endpoint="c_reset", methods=["POST"]),
                Rule("/_sim/realms", endpoint="c_realms", methods=["GET", "POST"]),
                Rule("/_sim/realms/<realm>/objects/<entity>", endpoint="c_objects", methods=["GET"]),
                Rule("/_sim/realms/<realm>/ui", endpoint="c_ui", methods=["POST"]),
                Rule("/_sim/realms/<realm>/tokens", endpoint="c_mint", methods=["POST"]),
                Rule("/_sim/realms/<realm>/preferences", endpoint="c_prefs", methods=["PATCH"]),
                Rule("/_sim/oauth", endpoint="c_oauth", methods=["GET", "PATCH"]),
                Rule("/_sim/oauth/clients", endpoint="c_oauth_client", methods=["POST"]),
                Rule("/_sim/oauth/expire-access", endpoint="c_expire", methods=["POST"]),
                Rule("/_sim/faults", endpoint="c_faults", methods=["GET", "PUT", "DELETE"]),
                Rule("/_sim/limits", endpoint="c_limits", methods=["GET", "PATCH"]),
                Rule("/_sim/clock", endpoint="c_clock", methods=["GET", "PATCH"]),
                Rule("/_sim/clock/advance", endpoint="c_advance", methods=["POST"]),
                Rule("/_sim/log", endpoint="c_log", methods=["GET"]),
                Rule("/_sim/counters", endpoint="c_counters", methods=["GET", "DELETE"]),
                Rule("/_sim/webhooks", endpoint="c_webhooks", methods=["GET", "PATCH"]),
                Rule("/_sim/webhooks/deliver", endpoint="c_deliver", methods=["POST"]),
            ]
        )

    # ================================================================== lifecycle
    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._server = ServerThread(self, host, port).start()
        self.webhooks.start()
        return self._server.url

    def stop(self) -> None:
        self.webhooks.stop()
        if self._server is not None:
            self._server.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        return self._server.url

    def add_realm(
        self,
        country: str,
        realm_id: str | None = None,
        name: str | None = None,
        custom_txn_numbers: bool = True,
    ) -> Realm:
        realm_id = realm_id or str(9130350000000000 + len(self.realms) + 1)
        country = country.upper()
        if country == "US":
            realm = us_realm(realm_id, self.clock.time, name or "Acme Stage Hire Inc")
        elif country in ("UK", "GB"):
            realm = uk_realm(realm_id, self.clock.time, name or "Brightlight Hire Ltd")
        else:
            raise ValueError("country must be US or UK")
        realm.prefs()["SalesFormsPrefs"]["CustomTxnNumbers"] = custom_txn_numbers
        realm.on_change = self._on_change
        with self._lock:
            self.realms[realm_id] = realm
            if self.consent_realm is None:
                self.consent_realm = realm_id
        return realm

    def _on_change(self, realm: Realm, change: Change) -> None:
        if change.operation == "Create":
            self.counters.add(realm.realm_id, "objects_created")
        self.webhooks.notify(realm.realm_id, change.entity, change.entity_id, change.operation, change.at)

    # ================================================================== WSGI
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except DropConnection:
            drop_connection(environ)
            response = Response(b"", status=500)
        return response(environ, start_response)

    def now_iso(self, realm: Realm | None = None) -> str:
        if realm is not None:
            return realm.iso()
        return datetime.fromtimestamp(self.clock.time(), UTC).isoformat(timespec="milliseconds")

    def _json(self, body: Any, status: int = 200, content_type: str = "application/json;charset=UTF-8") -> Response:
        return Response(jsonutil.dumps(body), status=status, content_type=content_type)

    def dispatch(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except NotFound:
            return self._json(
                F.QboFault(404, "404", "Not found", f"No resource at {request.path}", type="SERVICE").body(
                    self.now_iso()
                ),
                404,
            )
        except HTTPException as exc:
            return Response(exc.description or "", status=exc.code or 400)
        if endpoint.startswith("c_"):
            return self._control(endpoint, request, **args)
        if endpoint in ("authorize", "token", "revoke"):
            return self._oauth(endpoint, request)
        return self._api(endpoint, request, **args)

    # ================================================================== the API
    def _api(self, endpoint: str, request: Request, realm: str, **args: str) -> Response:
        realm_id = realm
        started = time.monotonic()
        entry: dict[str, Any] = {
            "t": self.clock.time(),
            "realm": realm_id,
            "method": request.method,
            "path": request.path,
            "requestid": request.args.get("requestid"),
            "minorversion": request.args.get("minorversion"),
            "endpoint": endpoint,
        }
        self.counters.add(realm_id, "requests")
        status = 500
        try:
            is_batch = endpoint == "batch"
            broke = self.limiter.admit(realm_id, self.clock.time(), batch=is_batch)
            if broke is not None:
                self.counters.add(realm_id, "throttled")
                entry["limit"] = broke
                status = 429
                return Response(F.throttle_xml(), status=429, content_type="application/xml")
            try:
                response = self._api_admitted(endpoint, request, realm_id, entry, **args)
                status = response.status_code
                return response
            finally:
                self.limiter.release(realm_id)
        except DropConnection:
            status = 0
            raise
        finally:
            entry["status"] = status
            entry["ms"] = round((time.monotonic() - started) * 1000, 2)
            if 400 <= status < 500 and status != 429:
                self.counters.add(realm_id, "client_errors")
            elif status >= 500:
                self.counters.add(realm_id, "server_errors")
            self.log.append(entry)

    def _auth_failure(self, realm_id: str) -> Response:
        self.counters.add(realm_id, "auth_failures")
        if self.auth_fault_format == "xml":
            return Response(F.auth_xml(), status=401, content_type="application/xml")
        return self._json(F.auth_json(self.now_iso()), 401)

    def _api_admitted(
        self, endpoint: str, request: Request, realm_id: str, entry: dict[str, Any], **args: str
    ) -> Response:
        realm = self.realms.get(realm_id)
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        if realm is None or not self.oauth.check_access(token, realm_id, self.clock.time()):
            return self._auth_failure(realm_id)
        if "minorversion" not in request.args:
            self.counters.add(realm_id, "missing_minorversion")
        rule = self.chaos.pick(request.method, request.path, realm_id)
        after: str | None = None
        if rule is not None:
            self.counters.add(realm_id, "faults_injected")
            entry["fault"] = rule.kind
            if rule.kind.startswith("http_"):
                code = int(rule.kind[5:])
                return self._json(F.server_error(code).body(self.now_iso(realm)), code)
            if rule.kind == "throttle":
                self.counters.add(realm_id, "throttled")
                return Response(F.throttle_xml(), status=429, content_type="application/xml")
            if rule.kind == "auth":
                return self._auth_failure(realm_id)
            if rule.kind == "reset":
                raise DropConnection()
            if rule.kind in ("timeout", "latency"):
                time.sleep(rule.delay)
            if rule.kind == "lost_answer":
                after = "drop"
        try:
            response = self._handle(endpoint, request, realm, **args)
        except F.QboFault as fault:
            response = self._json(fault.body(realm.iso()), fault.status)
        if after == "drop":
            raise DropConnection()
        return response

    def _body(self, request: Request) -> Any:
        raw = request.get_data()
        if not raw:
            raise F.malformed("The request has no body")
        try:
            return jsonutil.loads(raw)
        except ValueError as exc:
            raise F.malformed(f"Request body is not valid JSON: {exc}") from exc

    def _entity(self, name: str) -> str:
        entity = ENTITIES.get(name.lower())
        if entity is None:
            raise F.QboFault(400, "500", "Unsupported Operation", f"Unknown entity {name}", type="SERVICE")
        return entity

    def _handle(self, endpoint: str, request: Request, realm: Realm, **args: str) -> Response:
        rid = request.args.get("requestid")
        limit = BATCH_REQUESTID_MAX if endpoint == "batch" else REQUESTID_MAX
        if rid is not None and (not rid or len(rid) > limit):
            # ASSUMPTION: the fault for an over-long requestid is not on the sheet; its limit is.
            raise F.QboFault(400, "2050", "Invalid requestid", f"requestid must be 1 to {limit} characters")
        with realm.lock_for_request():
            if rid is not None and endpoint in ("write", "batch"):
                stored = realm.request_ids.get(rid)
                if stored is not None:
                    # Reference: "A repeat of the same id returns the original response instead of writing again",
                    # "even after the object was deleted".
                    self.counters.add(realm.realm_id, "replays")
                    return self._json(stored[1], stored[0])
            if endpoint == "read":
                return self._read(request, realm, args["entity"], args["entity_id"])
            if endpoint == "preferences":
                self.counters.add(realm.realm_id, "reads")
                return self._json({"Preferences": realm.prefs(), "time": realm.iso()})
            if endpoint == "query":
                return self._query(request, realm)
            if endpoint == "cdc":
                return self._cdc(request, realm)
            if endpoint == "batch":
                status, body = self._batch(request, realm, rid is not None)
            else:
                status, body = self._write(request, realm, args["entity"])
            if rid is not None and 200 <= status < 300:
                realm.request_ids[rid] = (status, copy.deepcopy(body))
            return self._json(body, status)

    def _read(self, request: Request, realm: Realm, entity_name: str, entity_id: str) -> Response:
        entity = self._entity(entity_name)
        self.counters.add(realm.realm_id, "reads")
        obj = realm.get(entity, entity_id)
        if obj is None:
            raise F.not_found(entity, entity_id)
        return self._json({entity: self._public(obj), "time": realm.iso()})

    @staticmethod
    def _public(obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if not k.startswith("_")}

    def _write(self, request: Request, realm: Realm, entity_name: str) -> tuple[int, Any]:
        entity = self._entity(entity_name)
        self.counters.add(realm.realm_id, "writes")
        body = self._body(request)
        if not isinstance(body, dict):
            raise F.malformed("The request body must be a JSON object")
        operation = (request.args.get("operation") or "").lower()
        allow_dup = "allowduplicatedocnum" in (request.args.get("include") or "").lower()
        obj = self._apply(realm, entity, operation, body, allow_dup, set())
        return 200, {entity: self._public(obj), "time": realm.iso()}

    def _apply(
        self,
        realm: Realm,
        entity: str,
        operation: str,
        body: dict[str, Any],
        allow_dup: bool,
        hidden: set[tuple[str, str]],
    ) -> dict[str, Any]:
        if operation == "delete":
            return realm.delete(entity, body)
        if operation == "void":
            return realm.void(entity, body)
        if operation in ("", "create", "update"):
            if body.get("Id") not in (None, "") or operation == "update":
                return realm.update(entity, body, allow_dup=allow_dup, hidden=hidden)
            obj = realm.create(entity, body, allow_dup=allow_dup, hidden=hidden)
            hidden.add((entity, obj["Id"]))
            return obj
        raise F.unsupported(operation, entity)

    def _query(self, request: Request, realm: Realm) -> Response:
        self.counters.add(realm.realm_id, "reads")
        self.counters.add(realm.realm_id, "queries")
        text = request.args.get("query")
        if text is None and request.method == "POST":
            text = request.get_data(as_text=True)
        parsed = Q.parse(text or "", ENTITIES)
        result = Q.run(parsed, [self._public(o) for o in realm.all(parsed.entity)])
        return self._json({"QueryResponse": result, "time": realm.iso()})

    def _cdc(self, request: Request, realm: Realm) -> Response:
        self.counters.add(realm.realm_id, "reads")
        self.counters.add(realm.realm_id, "cdc")
        names = [n.strip() for n in (request.args.get("entities") or "").split(",") if n.strip()]
        since_text = request.args.get("changedSince")
        if not names or not since_text:
            raise F.required("entities and changedSince", "cdc")
        try:
            since = datetime.fromisoformat(since_text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise F.QboFault(400, "2010", "Invalid date", f"changedSince is not a date-time: {since_text}") from exc
        if since.tzinfo is None:
            since = since.replace(tzinfo=realm.tz)
        if since < cdc_floor(self.clock.time()):
            # Reference, Limits: "CDC looks back at most 30 days". ASSUMPTION: the exact fault.
            raise F.business("changedSince may be at most 30 days ago.", "changedSince")
        responses = []
        budget = self.cdc_max_objects  # reference: "at most 1000 objects per response, no cursor"
        for name in names:
            entity = self._entity(name)
            changed = [self._public(o) for o in realm.changed_since(entity, since)][:budget]
            budget -= len(changed)
            part: dict[str, Any] = {entity: changed, "startPosition": 1, "maxResults": len(changed)} if changed else {}
            responses.append(part)
        return self._json({"CDCResponse": [{"QueryResponse": responses}], "time": realm.iso()})

    def _batch(self, request: Request, realm: Realm, has_requestid: bool) -> tuple[int, Any]:
        self.counters.add(realm.realm_id, "batches")
        body = self._body(request)
        items = body.get("BatchItemRequest") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise F.required("BatchItemRequest", "batch")
        if len(items) > BATCH_MAX:
            raise F.batch_too_large(len(items), BATCH_MAX)
        hidden: set[tuple[str, str]] = set()  # "cannot see objects created earlier in the same batch"
        answers: list[dict[str, Any]] = []
        seen_bids: set[str] = set()
        for item in items:
            bid = str(item.get("bId", "")) if isinstance(item, dict) else ""
            try:
                if not bid:
                    raise F.required("bId", "batch")
                if has_requestid and len(bid) > BID_MAX:
                    raise F.too_long("bId", BID_MAX, len(bid))
                if bid in seen_bids:
                    raise F.QboFault(400, "2010", "Duplicate bId", f"bId {bid} appears twice in this batch")
                seen_bids.add(bid)
                if "Query" in item:
                    self.counters.add(realm.realm_id, "reads")
                    parsed = Q.parse(str(item["Query"]), ENTITIES)
                    answers.append(
                        {
                            "bId": bid,
                            "QueryResponse": Q.run(parsed, [self._public(o) for o in realm.all(parsed.entity)]),
                        }
                    )
                    continue
                keys = [k for k in item if k in ENTITIES.values()]
                if len(keys) != 1:
                    raise F.malformed("A batch item names exactly one entity")
                entity = keys[0]
                payload = item[entity]
                if not isinstance(payload, dict):
                    raise F.malformed(f"{entity} must be an object")
                self.counters.add(realm.realm_id, "writes")
                obj = self._apply(realm, entity, str(item.get("operation", "create")).lower(), payload, False, hidden)
                answers.append({"bId": bid, entity: self._public(obj)})
            except F.QboFault as fault:
                answers.append({"bId": bid, "Fault": fault.error_item()})
        if self.shuffle_batches:
            # Reference: "the order of responses is not guaranteed: match on bId".
            self._rng.shuffle(answers)
        return 200, {"BatchItemResponse": answers, "time": realm.iso()}

    # ================================================================== OAuth
    def _oauth(self, endpoint: str, request: Request) -> Response:
        now = self.clock.time()
        try:
            if endpoint == "authorize":
                args = request.args
                redirect_uri = args.get("redirect_uri", "")
                missing = [
                    k for k in ("client_id", "redirect_uri", "response_type", "scope", "state") if not args.get(k)
                ]
                if missing:
                    raise OAuthError(400, "invalid_request", f"missing {', '.join(missing)}")
                if args.get("scope") and "com.intuit.quickbooks.accounting" not in args["scope"]:
                    raise OAuthError(400, "invalid_scope", "scope must include com.intuit.quickbooks.accounting")
                if self.consent_error:
                    # The user pressed Cancel (or Intuit failed): redirect with error, as OAuth 2.0 says.
                    query = urlencode({"error": self.consent_error, "state": args["state"]})
                    return Response(status=302, headers={"Location": f"{redirect_uri}?{query}"})
                realm_id = args.get("realm_id") or self.consent_realm
                if realm_id not in self.realms:
                    raise OAuthError(400, "invalid_request", "no company to connect; create a realm first")
                code = self.oauth.authorize(args["client_id"], redirect_uri, realm_id, now)
                query = urlencode({"code": code, "state": args["state"], "realmId": realm_id})
                return Response(status=302, headers={"Location": f"{redirect_uri}?{query}"})
            client_id, client_secret = self._basic(request)
            if endpoint == "revoke":
                self.oauth.check_client(client_id, client_secret)
                body = request.get_json(silent=True) or {}
                token = body.get("token") if isinstance(body, dict) else None
                if not token:
                    raise OAuthError(400, "invalid_request", "token is required")
                self.oauth.revoke(str(token))
                return Response(b"", status=200)
            if not (request.mimetype or "").startswith("application/x-www-form-urlencoded"):
                raise OAuthError(400, "invalid_request", "the body must be application/x-www-form-urlencoded")
            client = self.oauth.check_client(client_id, client_secret)
            form = request.form
            want_hard = request.headers.get("x-include-refresh-token-hard-expires-in", "").lower() == "true"
            grant = form.get("grant_type")
            if grant == "authorization_code":
                return self._json(
                    self.oauth.exchange(client, form.get("code", ""), form.get("redirect_uri", ""), now, want_hard)
                )
            if grant == "refresh_token":
                return self._json(self.oauth.refresh(client, form.get("refresh_token", ""), now, want_hard))
            raise OAuthError(400, "unsupported_grant_type", f"grant_type {grant!r} is not supported")
        except OAuthError as exc:
            return self._json(exc.body(), exc.status)

    @staticmethod
    def _basic(request: Request) -> tuple[str | None, str | None]:
        header = request.headers.get("Authorization", "")
        if not header.lower().startswith("basic "):
            return None, None
        try:
            decoded = base64.b64decode(header[6:]).decode()
        except ValueError:
            return None, None
        client_id, _, secret = decoded.partition(":")
        return client_id, secret

    # ================================================================== control surface
    def _control(self, endpoint: str, request: Request, **args: str) -> Response:
        try:
            return self._control_inner(endpoint, request, **args)
        except F.QboFault as fault:
            return self._json(fault.body(self.now_iso()), fault.status)
        except (ValueError, TypeError, KeyError) as exc:
            return self._json({"error": f"{type(exc).__name__}: {exc}"}, 400)

    def _cbody(self, request: Request) -> dict[str, Any]:
        raw = request.get_data()
        if not raw:
            return {}
        body = json.loads(raw)  # control values are plain numbers; money in a UI body goes through model.money()
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        return body

    def _realm(self, realm_id: str) -> Realm:
        realm = self.realms.get(realm_id)
        if realm is None:
            raise KeyError(f"no realm {realm_id}")
        return realm

    def _control_inner(self, endpoint: str, request: Request, **args: str) -> Response:
        body = self._cbody(request) if request.method in ("POST", "PUT", "PATCH") else {}
        if endpoint == "c_health":
            return self._json({"ok": True, "realms": list(self.realms)})
        if endpoint == "c_reset":
            with self._lock:
                self.realms.clear()
                self.consent_realm = None
            self.chaos.clear()
            self.limiter.reset()
            self.log.clear()
            self.counters = Counters()
            self.webhooks.clear()
            return self._json({"ok": True})
        if endpoint == "c_realms":
            if request.method == "POST":
                realm = self.add_realm(
                    str(body.get("country", "US")),
                    body.get("realm_id"),
                    body.get("name"),
                    bool(body.get("custom_txn_numbers", True)),
                )
                return self._json({"realm_id": realm.realm_id, "country": realm.country}, 201)
            return self._json(
                {
                    "realms": [
                        {"realm_id": r.realm_id, "country": r.country, "name": r.company_name}
                        for r in self.realms.values()
                    ]
                }
            )
        if endpoint == "c_objects":
            realm = self._realm(args["realm"])
            entity = self._entity(args["entity"])
            with realm.lock_for_request():
                return self._json({entity: [self._public(o) for o in realm.all(entity)]})
        if endpoint == "c_ui":
            # As a bookkeeper would in the QuickBooks UI: no token, no limits, no metering; webhooks fire.
            realm = self._realm(args["realm"])
            entity = self._entity(str(body.get("entity", "")))
            with realm.lock_for_request():
                obj = self._apply(
                    realm,
                    entity,
                    str(body.get("operation", "create")).lower(),
                    dict(body.get("body") or {}),
                    True,
                    set(),
                )
            return self._json({entity: self._public(obj)}, 200)
        if endpoint == "c_mint":
            self._realm(args["realm"])
            return self._json(
                self.oauth.mint(str(body.get("client_id", DEFAULT_CLIENT_ID)), args["realm"], self.clock.time())
            )
        if endpoint == "c_prefs":
            realm = self._realm(args["realm"])
            with realm.lock_for_request():
                for key, value in body.items():
                    if isinstance(value, dict):
                        realm.prefs().setdefault(key, {}).update(value)
                    else:
                        realm.prefs()[key] = value
                return self._json({"Preferences": realm.prefs()})
        if endpoint == "c_oauth":
            if request.method == "PATCH":
                if "rotate_after" in body:
                    self.oauth.rotate_after = float(body["rotate_after"])
                if "hard_max" in body:
                    self.oauth.hard_max = float(body["hard_max"])
                if "consent_realm" in body:
                    self.consent_realm = body["consent_realm"]
                if "consent_error" in body:
                    self.consent_error = body["consent_error"]
                if "auth_fault_format" in body:
                    if body["auth_fault_format"] not in ("json", "xml"):
                        raise ValueError("auth_fault_format must be json or xml")
                    self.auth_fault_format = str(body["auth_fault_format"])
            o = self.oauth
            return self._json(
                {
                    "refreshes": o.refreshes,
                    "exchanges": o.exchanges,
                    "invalid_grants": o.invalid_grants,
                    "rotate_after": o.rotate_after,
                    "hard_max": o.hard_max,
                    "consent_realm": self.consent_realm,
                    "consent_error": self.consent_error,
                }
            )
        if endpoint == "c_oauth_client":
            self.oauth.add_client(str(body["client_id"]), str(body["client_secret"]), list(body["redirect_uris"]))
            return self._json({"ok": True}, 201)
        if endpoint == "c_expire":
            return self._json({"expired": self.oauth.expire_access_tokens()})
        if endpoint == "c_faults":
            if request.method == "PUT":
                self.chaos.set(list(body.get("rules", [])), body.get("seed"))
            elif request.method == "DELETE":
                self.chaos.clear()
            return self._json({"rules": [r.as_dict() for r in self.chaos.rules]})
        if endpoint == "c_limits":
            if "shuffle_batches" in body:
                self.shuffle_batches = bool(body.pop("shuffle_batches"))
            if "cdc_max_objects" in body:
                self.cdc_max_objects = int(body.pop("cdc_max_objects"))
            for key, value in body.items():
                if key not in self.limits.__dataclass_fields__:
                    raise KeyError(f"unknown limit {key}")
                setattr(self.limits, key, value)
            return self._json({k: getattr(self.limits, k) for k in self.limits.__dataclass_fields__})
        if endpoint == "c_clock":
            if "scale" in body:
                self.clock.set_scale(float(body["scale"]))
            return self._json({"now": self.clock.time(), "scale": self.clock.scale})
        if endpoint == "c_advance":
            self.clock.advance(float(body.get("seconds", 0)))
            return self._json({"now": self.clock.time(), "scale": self.clock.scale})
        if endpoint == "c_log":
            limit = int(request.args.get("limit", "1000"))
            entries = list(self.log)[-limit:] if limit > 0 else []
            return self._json({"entries": entries})
        if endpoint == "c_counters":
            if request.method == "DELETE":
                self.counters = Counters()
                self.log.clear()
            return self._json(self.counters.snapshot())
        if endpoint == "c_webhooks":
            if request.method == "PATCH":
                cfg = self.webhooks.config
                for key in ("url", "verifier_token", "format", "enabled"):
                    if key in body:
                        setattr(cfg, key, body[key])
                if "entities" in body:
                    cfg.entities = tuple(body["entities"])
                if cfg.format not in ("legacy", "cloudevents"):
                    raise ValueError("format must be legacy or cloudevents")
            return self._json(self.webhooks.state())
        if endpoint == "c_deliver":
            sent = self.webhooks.deliver_due(ignore_schedule=bool(body.get("ignore_schedule", False)))
            return self._json({"acknowledged": sent, **self.webhooks.state()})
        raise KeyError(endpoint)  # pragma: no cover


__all__ = ["DEFAULT_CLIENT_ID", "DEFAULT_CLIENT_SECRET", "QboSimulator"]
