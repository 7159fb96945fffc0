"""AWS on this machine: moto's server on a loopback port, with the template's tables created in it."""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from .template import load_template, resources

LOCAL_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",  # moto accepts anything; these are not credentials
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "HireBooks",
    "POWERTOOLS_DEV": "false",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalAws:
    """moto's server. Sets AWS_ENDPOINT_URL so every boto3 client in this process talks to it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalAws:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.server.start()
        os.environ.update(LOCAL_ENV)
        os.environ["AWS_ENDPOINT_URL"] = self.url
        return self

    def stop(self) -> None:
        self.server.stop()

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.url, region_name=LOCAL_ENV["AWS_DEFAULT_REGION"])


def create_tables(dynamodb: Any, prefix: str, template: dict[str, Any] | None = None) -> dict[str, str]:
    """Create every AWS::DynamoDB::Table of the template as `<prefix>-<LogicalId>`; return logical id -> name."""
    template = template or load_template()
    names: dict[str, str] = {}
    for logical, res in resources(template, "AWS::DynamoDB::Table").items():
        props = res["Properties"]
        name = f"{prefix}-{logical}"
        kwargs: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        dynamodb.create_table(**kwargs)
        if props.get("TimeToLiveSpecification", {}).get("Enabled"):
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=props["TimeToLiveSpecification"])
        names[logical] = name
    return names


def create_queues(sqs: Any, prefix: str, template: dict[str, Any] | None = None) -> dict[str, str]:
    """Create every AWS::SQS::Queue of the template as `<prefix>-<LogicalId>`; return logical id -> queue URL (what
    CloudFormation's Ref gives for a queue)."""
    template = template or load_template()
    urls: dict[str, str] = {}
    for logical in resources(template, "AWS::SQS::Queue"):
        urls[logical] = sqs.create_queue(QueueName=f"{prefix}-{logical}")["QueueUrl"]
    return urls
