"""A small client for the simulator's control surface (/_sim), used by tests, the demo and the benchmarks."""

from __future__ import annotations

from typing import Any

import requests


class SimControl:
    def __init__(self, base_url: str, session: requests.Session | None = None) -> None:
        self.url = base_url.rstrip("/")
        self.http = session or requests.Session()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        resp = self.http.request(method, f"{self.url}/_sim{path}", json=body, timeout=(3, 30))
        if resp.status_code >= 400:
            raise RuntimeError(f"simulator control {method} {path} failed: {resp.status_code} {resp.text[:300]}")
        return resp.json() if resp.content else None

    def add_realm(self, country: str, realm_id: str, **kw: Any) -> dict[str, Any]:
        return dict(self._call("POST", "/realms", {"country": country, "realm_id": realm_id, **kw}))

    def mint_tokens(self, realm_id: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/realms/{realm_id}/tokens"))

    def objects(self, realm_id: str, entity: str) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/realms/{realm_id}/objects/{entity}")[entity])

    def ui(self, realm_id: str, entity: str, body: dict[str, Any], operation: str = "create") -> dict[str, Any]:
        """Act as a bookkeeper in the QuickBooks UI: no token, no limits, webhooks fire."""
        answer = self._call("POST", f"/realms/{realm_id}/ui", {"entity": entity, "operation": operation, "body": body})
        return dict(answer[entity])

    def faults(self, *rules: dict[str, Any], seed: int | None = None) -> None:
        self._call("PUT", "/faults", {"rules": list(rules), "seed": seed})

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def fault_rules(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/faults")["rules"])

    def limits(self, **settings: Any) -> dict[str, Any]:
        return dict(self._call("PATCH", "/limits", settings))

    def oauth(self, **settings: Any) -> dict[str, Any]:
        return dict(self._call("PATCH", "/oauth", settings))

    def expire_access_tokens(self) -> int:
        return int(self._call("POST", "/oauth/expire-access")["expired"])

    def clock(self, scale: float | None = None) -> dict[str, Any]:
        return dict(self._call("PATCH", "/clock", {} if scale is None else {"scale": scale}))

    def advance(self, seconds: float) -> dict[str, Any]:
        return dict(self._call("POST", "/clock/advance", {"seconds": seconds}))

    def counters(self, realm_id: str | None = None) -> dict[str, int]:
        snap = self._call("GET", "/counters")
        return dict(snap["total"] if realm_id is None else snap["realms"].get(realm_id, {}))

    def reset_counters(self) -> None:
        self._call("DELETE", "/counters")

    def log(self, limit: int = 1000) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/log?limit={limit}")["entries"])

    def webhooks(self, **config: Any) -> dict[str, Any]:
        return dict(self._call("PATCH", "/webhooks", config))

    def deliver_webhooks(self, ignore_schedule: bool = False) -> dict[str, Any]:
        return dict(self._call("POST", "/webhooks/deliver", {"ignore_schedule": ignore_schedule}))

    def preferences(self, realm_id: str, **prefs: Any) -> dict[str, Any]:
        return dict(self._call("PATCH", f"/realms/{realm_id}/preferences", prefs))
