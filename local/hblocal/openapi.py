"""The HTTP API's OpenAPI document, generated from the handlers (Powertools' resolvers describe their routes), merged
across the functions, with the set-up's request bodies (their pydantic models) and the admin token's scheme.

    python -m hblocal.openapi          write functions/setup_api/openapi.json (served at GET /openapi.json)
    python -m hblocal.openapi --check  exit 1 if the committed document differs from the handlers
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from hirebooks import setup as S

from .gateway import load_handler
from .template import ROOT, http_routes, load_template

TARGET = ROOT / "functions" / "setup_api" / "openapi.json"
BODIES = {
    ("put", "/setup/{company}"): S.CompanyRequest,
    ("put", "/setup/{company}/packages/{package}"): S.PackageRequest,
    ("patch", "/setup/{company}/packages/{package}/accounts"): S.AccountsRequest,
    ("patch", "/setup/{company}/packages/{package}/tax-codes"): S.TaxCodesRequest,
    ("put", "/setup/{company}/assignments"): S.AssignmentsRequest,
    ("post", "/setup/{company}/packages/{package}/contacts/import"): S.ContactImportRequest,
}
OPEN = {
    "/hirehop/{tenant}/events",
    "/quickbooks/webhook",
    "/quickbooks/connect",
    "/quickbooks/callback",
    "/openapi.json",
}


def generate() -> dict[str, Any]:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    routes = http_routes(load_template())
    paths: dict[str, Any] = {}
    components: dict[str, Any] = {}
    for function in sorted({r.function for r in routes}):
        route = next(r for r in routes if r.function == function)
        handler = load_handler(route, "_openapi")
        app = sys.modules[handler.__module__].app
        doc = json.loads(app.get_openapi_json_schema(title="HireBooks", version="1"))
        for path, operations in doc["paths"].items():
            for method, op in operations.items():
                op["tags"] = [function.removesuffix("Function")]
                if path not in OPEN:
                    op["security"] = [{"adminToken": []}]
                model = BODIES.get((method, path))
                if model is not None:
                    components[model.__name__] = model.model_json_schema(ref_template="#/components/schemas/{model}")
                    op["requestBody"] = {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}},
                    }
                paths.setdefault(path, {})[method] = op
        components.update(doc.get("components", {}).get("schemas", {}))
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "HireBooks",
            "version": "1",
            "description": "HireHop and QuickBooks webhooks, the QuickBooks connection, the buffer and the set-up. "
            "Admin routes need Authorization: Bearer <admin token>.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer"}},
        },
    }


def render() -> str:
    return json.dumps(generate(), indent=2, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m hblocal.openapi", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare with the committed document")
    args = parser.parse_args()
    text = render()
    if args.check:
        if not TARGET.exists() or TARGET.read_text() != text:
            print(f"{TARGET} is out of date: run `make openapi` and commit it", file=sys.stderr)
            return 1
        print("openapi.json matches the handlers")
        return 0
    TARGET.write_text(text)
    print(f"wrote {TARGET} ({len(generate()['paths'])} paths)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
