"""One place for Logger, Tracer and Metrics: one service name, one namespace, PascalCase metric names.

Never log a whole event, a token or a secret: log ids and counts.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "hirebooks"
NAMESPACE = "HireBooks"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

__all__ = ["NAMESPACE", "SERVICE", "logger", "metrics", "tracer"]
