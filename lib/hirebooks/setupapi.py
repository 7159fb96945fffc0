"""The set-up's admin routes (served by setup_api): authentication, the clients each step needs, one answer shape.

Every route needs the admin token; a bad request is a 4xx with {"error", "message"} and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from hirebooks import errors as E
from hirebooks.adminapi import check_admin, json_object
from hirebooks.hirehop.client import PACERS, HireHopClient
from hirebooks.observability import logger, metrics
from hirebooks.qbo.client import QboHttpClient
from hirebooks.setup import Setup, SetupError
from hirebooks.store.dynamo import DynamoTenantDirectory
from hirebooks.sync.buffer import BufferError
from hirebooks.wiring import SyncDeps, hirehop_secret_name

Answer = tuple[int, dict[str, Any]]


@dataclass
class SetupApi:
    deps: SyncDeps
    tenants: DynamoTenantDirectory

    @property
    def setup(self) -> Setup:
        return Setup(self.deps.settings, lambda c, t: self.deps.secrets.put(hirehop_secret_name(c), t))

    def qbo(self, company_id: int, package_id: str) -> QboHttpClient:
        package = self.setup.package(self.setup.company(company_id), package_id)
        return QboHttpClient(base_url=self.deps.qbo_base_url, realm_id=package.realm_id, tokens=self.deps.tokens())

    def hirehop(self, company_id: int) -> HireHopClient:
        settings = self.setup.company(company_id)
        token = self.deps.secrets.get(hirehop_secret_name(company_id))
        if not token:
            raise SetupError(409, "no_hirehop_token", "Set the HireHop API user's token first (PUT /setup/{company}).")
        pacer = PACERS.for_token(token, self.deps.clock, self.deps.hirehop_per_minute, self.deps.hirehop_per_second)
        return HireHopClient(base_url=settings.hirehop_url, token=token, clock=self.deps.clock, pacer=pacer)

    def run(self, authorization: str | None, raw_body: str | None, company: str, step: Callable[..., Any]) -> Answer:
        """Check the admin token, the company id and the body; run the step; answer its result or its error."""
        try:
            check_admin(authorization, self.deps.secrets)
            if not company.isdigit() or int(company) <= 0:
                raise SetupError(422, "invalid_company", "The company id in the path must be a positive whole number.")
            result = step(int(company), json_object(raw_body))
        except BufferError as error:
            metrics.add_metric(name="SetupRequestRejected", unit=MetricUnit.Count, value=1)
            return error.status, error.body()
        except E.ReconnectNeededError as exc:
            return 409, {"error": "needs_reconnect", "message": str(exc)}
        except E.HireBooksError as exc:
            logger.warning("set-up step failed", extra={"error": str(exc)})
            return 502, {"error": exc.kind, "message": f"{exc} (try again; nothing was changed)"}
        metrics.add_metric(name="SetupStepDone", unit=MetricUnit.Count, value=1)
        if hasattr(result, "model_dump"):
            return 200, result.model_dump(mode="json")
        return 200, result if isinstance(result, dict) else {"items": result}

    def put_company(self, company_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """Step 0, and a check that HireHop takes the token: the depot tree is read and kept (it decides packages)."""
        settings = self.setup.put_company(company_id, body)
        try:
            depots = self.hirehop(company_id).depots()
        except E.AuthError as exc:
            raise SetupError(422, "hirehop_refused", str(exc)) from None
        parents = {str(d["ID"]): int(d.get("PARENT") or 0) for d in depots if int(str(d.get("VIRTUAL") or 0))}
        stored = self.setup.store(settings.model_copy(update={"depot_parents": parents}))
        return {**stored.model_dump(mode="json"), "depots": [{"id": d["ID"], "name": d.get("DEPOT")} for d in depots]}

    def register_tenant(self, company_id: int, body: dict[str, Any]) -> dict[str, Any]:
        export_key = str(body.get("export_key") or "")
        if len(export_key) < 6:
            raise SetupError(422, "invalid_export_key", "export_key: HireHop's export key (at least 6 characters).")
        self.setup.company(company_id)
        token = self.tenants.register(company_id, export_key)
        return {
            "webhook_path": f"/hirehop/{token}/events",
            "message": "Point HireHop's webhook (Settings > Company settings > Webhooks) at <ApiUrl> + webhook_path. "
            "The token is shown once.",
        }
