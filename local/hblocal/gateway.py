"""A small API Gateway for the local stack: HTTP requests become HTTP API (payload 2.0) events for the real
handlers, on the routes infra/template.yaml declares, with each function's environment resolved from the template.
"""

from __future__ import annotations

import base64
import importlib.util
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from hirebooks.config import flush_settings, intake_settings, live_settings, token_settings, webhook_settings
from simcore.server import ServerThread
from werkzeug.wrappers import Request, Response

from .template import Route, http_routes, load_template

TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded", "application/cloudevents+json")


@dataclass
class LambdaContext:
    """What a Lambda context offers the handlers (Powertools reads these fields)."""

    function_name: str
    timeout_s: int
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = ""
    log_group_name: str = ""
    log_stream_name: str = "local"

    def __post_init__(self) -> None:
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - time.monotonic()) * 1000), 0)


LOCAL_STACK_NAME = "hirebooks-local"


def resolve_env(value: Any, tables: dict[str, str]) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        return tables.get(value["Ref"])
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str) and "${" in value["Fn::Sub"]:
        text = value["Fn::Sub"].replace("${AWS::StackName}", LOCAL_STACK_NAME)
        return None if "${" in text else text
    return None  # Fn::FindInMap and friends: deployment-only values (the local stack sets those itself)


def load_handler(route: Route, instance: str = "") -> Callable[..., Any]:
    """Load a function's handler as Lambda would, under a module name of its own (four app.py files coexist)."""
    module_file, func = route.handler.rsplit(".", 1)
    path = route.code_dir / f"{module_file}.py"
    name = f"hb_function_{route.function}{instance}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return getattr(module, func)  # type: ignore[no-any-return]


class LocalGateway:
    def __init__(self, tables: dict[str, str], *, force_base64: bool = False) -> None:
        self.routes = http_routes(load_template())
        self.tables = tables
        self.force_base64 = force_base64
        # Like Lambda, a "container" (a loaded copy of the function's module) serves one request at a time;
        # concurrent requests get containers of their own (module state such as Powertools' resolver is per copy).
        self._idle: dict[str, list[Callable[..., Any]]] = {}
        self._loaded = 0
        self._lock = threading.Lock()
        self._server: ServerThread | None = None
        # A function's Ref is its name; locally the gateway invokes functions by their logical id.
        names = {**{route.function: route.function for route in self.routes}, **tables}
        for route in self.routes:
            for key, value in route.environment.items():
                resolved = resolve_env(value, names)
                if resolved is not None:
                    os.environ[key] = resolved
        intake_settings.cache_clear()  # settings are read once per process: read them again for these tables
        live_settings.cache_clear()
        flush_settings.cache_clear()
        webhook_settings.cache_clear()
        token_settings.cache_clear()

    @contextmanager
    def container(self, route: Route) -> Iterator[Callable[..., Any]]:
        with self._lock:
            idle = self._idle.setdefault(route.function, [])
            if idle:
                handler = idle.pop()
            else:
                self._loaded += 1
                handler = None
                instance = f"_{id(self):x}_{self._loaded}"
        if handler is None:
            handler = load_handler(route, instance)  # a cold start
        try:
            yield handler
        finally:
            with self._lock:
                self._idle[route.function].append(handler)

    def invoke(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        """Invoke a function with a non-HTTP event (an SQS batch, a schedule), as its event source would."""
        route = next(r for r in self.routes if r.function == function)
        with self.container(route) as handler:
            return dict(handler(event, LambdaContext(route.function, route.timeout)))

    def event(self, request: Request, route: Route, params: dict[str, str]) -> dict[str, Any]:
        raw = request.get_data()
        ctype = request.headers.get("Content-Type", "")
        as_text = not self.force_base64 and (not ctype or ctype.startswith(TEXT_TYPES))
        try:
            body = raw.decode() if as_text else base64.b64encode(raw).decode()
        except UnicodeDecodeError:
            as_text, body = False, base64.b64encode(raw).decode()
        now = time.time()
        return {
            "version": "2.0",
            "routeKey": f"{route.method} {route.path}",
            "rawPath": request.path,
            "rawQueryString": request.query_string.decode(),
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "queryStringParameters": dict(request.args) or None,
            "pathParameters": params or None,
            "body": body if raw else None,
            "isBase64Encoded": bool(raw) and not as_text,
            "requestContext": {
                "accountId": "000000000000",
                "apiId": "local",
                "domainName": request.host,
                "http": {
                    "method": request.method,
                    "path": request.path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": request.remote_addr or "127.0.0.1",
                    "userAgent": request.headers.get("User-Agent", ""),
                },
                "requestId": str(uuid.uuid4()),
                "routeKey": f"{route.method} {route.path}",
                "stage": "$default",
                "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                "timeEpoch": int(now * 1000),
            },
        }

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if request.method == "POST" and request.path.startswith("/_local/invoke/"):
            # Lambda's asynchronous Invoke: answer at once, run the function on its own thread.
            function, event = request.path.rsplit("/", 1)[-1], request.get_json(force=True)
            threading.Thread(target=self.invoke, args=(function, event), daemon=True).start()
            return Response(b"", status=202)(environ, start_response)
        for route in self.routes:
            match = route.pattern().match(request.path)
            if match and request.method == route.method:
                with self.container(route) as handler:
                    result = handler(
                        self.event(request, route, match.groupdict()), LambdaContext(route.function, route.timeout)
                    )
                body = result.get("body") or ""
                data = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
                response = Response(data, status=int(result.get("statusCode", 200)))
                for key, value in (result.get("headers") or {}).items():
                    response.headers[key] = value
                response(environ, start_response)
                return [data]
        return Response(b'{"message":"Not Found"}', status=404, content_type="application/json")(
            environ, start_response
        )

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._server = ServerThread(self, host, port).start()
        os.environ["LOCAL_INVOKE_URL"] = f"{self._server.url}/_local/invoke"
        token_settings.cache_clear()
        return self._server.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
