"""Logs and metrics: structured JSON lines that CloudWatch reads, shared by every module.

Metrics are CloudWatch embedded-metric-format (EMF) records, in the namespace
`POWERTOOLS_METRICS_NAMESPACE`, with the service as dimension. A count with a breakdown
(`reason=...`) is published both in total and per value, so that alarms can watch the total and
dashboards the parts. Rare events publish through Powertools Metrics (`count`); the two that
happen on every request (a message answered, a request refused) carry their counts in their one
log line (`emf`), which saves a second serialization and write per request.
"""

import os
import time

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "twilio-sms-webhook")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "TwilioSmsWebhook")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
metrics.set_default_dimensions(service=SERVICE)


def count(metric: str, value: int = 1, **breakdown: str) -> None:
    """Publish `value` occurrences of one metric now, as an EMF line on stdout.

    The breakdown must be fixed vocabulary (a reason, a status, an error code), never data a
    caller chose freely or anything from a message's content.
    """
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=value)
    if breakdown:
        metrics.add_dimensions(**breakdown)
    metrics.flush_metrics()


def emf(counts: dict[str, int], **breakdown: str) -> dict:
    """The keys that make a log line also publish `counts` (CloudWatch embedded metric format)."""
    dimensions = [["service"], ["service", *breakdown]] if breakdown else [["service"]]
    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": dimensions,
                    "Metrics": [{"Name": name, "Unit": "Count"} for name in counts],
                }
            ],
        },
        **counts,
        **breakdown,
    }
