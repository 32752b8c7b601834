"""Logs and metrics: structured JSON lines that CloudWatch reads, shared by every module."""

import os

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit, single_metric

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "twilio-sms-webhook")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "TwilioSmsWebhook")

logger = Logger(service=SERVICE)


def count(metric: str, **dimensions: str) -> None:
    """Count one occurrence now, as a CloudWatch embedded-metric-format line on stdout.

    Dimensions must be fixed vocabulary (a reason, a status), never data from a message.
    """
    with single_metric(
        name=metric,
        unit=MetricUnit.Count,
        value=1,
        namespace=NAMESPACE,
        default_dimensions={"service": SERVICE},
    ) as emitted:
        for name, value in dimensions.items():
            emitted.add_dimension(name=name, value=value)
