"""Read infra/template.yaml so the local stack and the tests use the same tables, routes and environment as AWS."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Ref, !Sub, !GetAtt, ...) read as their long forms."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open() as fh:
        return dict(yaml.load(fh, Loader=_CfnLoader))  # noqa: S506 - SafeLoader subclass


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == kind}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str  # the logical id
    code_dir: Path
    handler: str
    timeout: int
    environment: dict[str, Any]

    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\+?\}", r"(?P<\1>[^/]+)", self.path)
        return re.compile(f"^{regex}$")


def http_routes(template: dict[str, Any], template_dir: Path = TEMPLATE.parent) -> list[Route]:
    glob = template.get("Globals", {}).get("Function", {})
    routes: list[Route] = []
    for name, res in resources(template, "AWS::Serverless::Function").items():
        props = res["Properties"]
        env = {
            **glob.get("Environment", {}).get("Variables", {}),
            **props.get("Environment", {}).get("Variables", {}),
        }
        for event in props.get("Events", {}).values():
            if event["Type"] != "HttpApi":
                continue
            routes.append(
                Route(
                    event["Properties"]["Method"].upper(),
                    event["Properties"]["Path"],
                    name,
                    (template_dir / props["CodeUri"]).resolve(),
                    props["Handler"],
                    int(props.get("Timeout", glob.get("Timeout", 3))),
                    env,
                )
            )
    return routes
