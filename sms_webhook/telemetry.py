"""Logs and metrics: structured JSON lines that CloudWatch reads, shared by every module.

Metrics are CloudWatch embedded-metric-format (EMF) lines, in the namespace
`POWERTOOLS_METRICS_NAMESPACE`, with the service as dimension. A count with a breakdown
(`reason=...`) is published both in total and per value, so that alarms can watch the total and
dashboards the parts.
"""

import os

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "twilio-sms-webhook")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "TwilioSmsWebhook")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
metrics.set_default_dimensions(service=SERVICE)


def count(metric: str, value: int = 1, **breakdown: str) -> None:
    """Publish `value` occurrences now, as one EMF line on stdout.

    The breakdown must be fixed vocabulary (a reason, a status, an error code), never data a
    caller chose freely or anything from a message's content.
    """
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=value)
    if breakdown:
        metrics.add_dimensions(**breakdown)
    metrics.flush_metrics()
