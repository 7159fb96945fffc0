"""Raw HTTP helpers for the simulator tests: they speak to the simulator as any client would, not through ours."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import requests

from tests.conftest import US, QboWorld


def post(world: QboWorld, entity: str, body: Any, realm: str = US, **params: str) -> requests.Response:
    params.setdefault("minorversion", "75")
    data = body if isinstance(body, str | bytes) else json.dumps(body, default=float)
    return world.raw(realm).post(
        f"{world.api(realm)}/{entity.lower()}",
        params=params,
        data=data,
        headers={"Content-Type": "application/json"},
    )


def ok(resp: requests.Response, entity: str) -> dict[str, Any]:
    assert resp.status_code == 200, resp.text
    return dict(json.loads(resp.text, parse_float=Decimal)[entity])


def fault(resp: requests.Response) -> tuple[int, str, str]:
    body = resp.json()
    err = body["Fault"]["Error"][0]
    return resp.status_code, err["code"], err["Detail"]


def ids(world: QboWorld, realm: str = US) -> dict[str, str]:
    """Handy ids of the seeded company: an item, the Boston tax code (US), the AP account, income accounts."""
    c = world.control
    out = {"item": c.objects(realm, "Item")[0]["Id"]}
    accounts = c.objects(realm, "Account")
    out["ap"] = next(a["Id"] for a in accounts if a["AccountType"] == "Accounts Payable")
    out["bank"] = next(a["Id"] for a in accounts if a["AccountType"] == "Bank")
    out["expense"] = next(a["Id"] for a in accounts if a["AccountType"] == "Expense")
    codes = {t["Name"]: t["Id"] for t in c.objects(realm, "TaxCode")}
    out.update({f"tax:{k}": v for k, v in codes.items()})
    return out


def customer(world: QboWorld, name: str, realm: str = US) -> dict[str, Any]:
    return ok(post(world, "Customer", {"DisplayName": name}, realm), "Customer")


def invoice_body(
    customer_id: str, item_id: str, amount: str = "100.00", doc: str | None = None, tax: str = "NON"
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "CustomerRef": {"value": customer_id},
        "Line": [
            {
                "DetailType": "SalesItemLineDetail",
                "Amount": amount,
                "SalesItemLineDetail": {
                    "ItemRef": {"value": item_id},
                    "Qty": 1,
                    "UnitPrice": amount,
                    "TaxCodeRef": {"value": tax},
                },
            }
        ],
    }
    if doc:
        body["DocNumber"] = doc
    return body
