"""Logs and metrics: structured JSON lines that CloudWatch reads, shared by every module.

Metrics are CloudWatch embedded-metric-format (EMF) records, in the namespace
`POWERTOOLS_METRICS_NAMESPACE`, with the service as dimension. A count with a breakdown
(`reason=...`) is published both in total and per value, so that alarms can watch the total and
dashboards the parts. Rare events publish through Powertools Metrics (`count`); the two that
happen on every request (a message answered, a request rejected) carry their counts in their one
log line (`emf`), which saves a second serialization and write per request.

Logs never hold a secret or a phone number: senders appear as `pseudonym`s, and the libraries
that would log request and response bodies at DEBUG (botocore's carry SSM's answer, the token
included) are kept at INFO, whatever level Lambda gives the root logger.

Lines are Powertools' JSON, written by `JsonLines`, which takes a shorter way to the same line.
"""

import hashlib
import hmac
import json
import logging
import os
import time
import traceback
from functools import lru_cache
from itertools import chain
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import RESERVED_LOG_ATTRS, LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "twilio-sms-webhook")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "TwilioSmsWebhook")


class JsonLines(LambdaPowertoolsFormatter):
    """Powertools' JSON lines, the same byte for byte, in fewer steps for the lines this function
    writes on every request: Powertools' `format` looks each of a record's twenty-odd attributes up
    in a tuple, and tries to read every message as JSON, which costs a raised exception for each
    message that is not. A line with an exception, `%` arguments, or a message that may be JSON
    goes through Powertools' own `format`; tests/test_telemetry.py compares the two."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if "json_serializer" not in options:  # Powertools' json.dumps makes an encoder per line
            self.json_serializer = json.JSONEncoder(
                default=self.json_default,
                separators=(",", ":"),
                indent=self.json_indent,
                ensure_ascii=False,
            ).encode

    def format(self, record: logging.LogRecord) -> str:
        message = record.msg
        if (
            record.exc_info
            or record.args
            or not isinstance(message, str)
            or message[:1] in _MAY_BEGIN_JSON
        ):
            return super().format(record)
        attributes = record.__dict__
        line: dict[str, Any] = {}
        with_time: dict[str, Any] = {}
        for key, value in chain(
            self.log_format.items(), self.thread_safe_get_current_keys().items()
        ):
            if not (value and key in _RECORD_ATTRIBUTES):
                line[key] = value
            elif not isinstance(value, str):  # Powertools says what is wrong with it
                return super().format(record)
            else:
                with_time = with_time or {**attributes, "asctime": self.formatTime(record)}
                line[key] = value % with_time
        line.update(
            (key, value) for key, value in attributes.items() if key not in _RECORD_ATTRIBUTES
        )
        line["message"] = message
        if self.serialize_stacktrace:  # Powertools writes a stack trace there, or nothing
            line.pop("stack_trace", None)
        line["xray_trace_id"] = self._get_latest_trace_id()
        return self.serialize({key: value for key, value in line.items() if value is not None})


_RECORD_ATTRIBUTES = frozenset(RESERVED_LOG_ATTRS)
"""A log record's own attributes, which Powertools formats into its keys or leaves out."""
_MAY_BEGIN_JSON = frozenset('{["-0123456789tfnNI \t\n\r')
"""The first characters of a message Powertools may read as JSON (`NaN` and `Infinity` too)."""

logger = Logger(service=SERVICE, logger_formatter=JsonLines())
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
metrics.set_default_dimensions(service=SERVICE)

for _library in ("botocore", "boto3", "urllib3", "aws_lambda_powertools"):
    logging.getLogger(_library).setLevel(logging.INFO)


def count(metric: str, value: int = 1, **breakdown: str) -> None:
    """Publish `value` occurrences of one metric now, as an EMF line on stdout.

    The breakdown must be fixed vocabulary (a reason, a status, an error code), never data a
    caller chose freely or anything from a message's content.
    """
    metrics.add_metric(name=metric, unit=MetricUnit.Count, value=value)
    if breakdown:
        metrics.add_dimensions(**breakdown)
    metrics.flush_metrics()


def emf(counts: dict[str, int], **breakdown: str) -> dict[str, Any]:
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


def raised_at(error: BaseException) -> str:
    """`handler.py:12`: where the error was raised, which finds a bug without logging its text
    or a stack trace (either could carry what a message said)."""
    frames = traceback.extract_tb(error.__traceback__)
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "unknown"


def pseudonym(address: str, secret: str) -> str:
    """How a sender appears in logs: `+1…34#5f2c9a1e` for `+14155551234`.

    The country code and the last two digits, and a hash of the whole address keyed by `secret`
    (the secret the request was signed with): the same sender gets the same pseudonym in every
    line of a deployment, so their lines can be found together, while nobody without the secret
    can tell which number it stands for. A channel prefix (`whatsapp:`) is kept; other addresses
    show no character of their own.
    """
    channel, colon, rest = address.rpartition(":")
    digest = hmac.new(_pseudonym_key(secret), address.encode(), hashlib.sha256).hexdigest()[:8]
    if rest.startswith("+") and rest[1:].isdigit() and len(rest) > _SHORTEST_NUMBER:
        shown = f"+{_country_code(rest[1:])}…{rest[-2:]}"
    elif rest.isdigit() and len(rest) > _SHORTEST_CODE:  # a short code
        shown = f"…{rest[-2:]}"
    else:
        shown = ""
    return f"{channel}{colon}{shown}#{digest}"


@lru_cache(maxsize=4)
def _pseudonym_key(secret: str) -> bytes:
    """A key of its own, derived from the secret: the secret itself is never used twice."""
    return hmac.new(secret.encode(), b"sender pseudonyms in logs", hashlib.sha256).digest()


_SHORTEST_NUMBER = 6
_SHORTEST_CODE = 4
"""At or below these lengths, a country code and two digits would leave too little unknown."""

_TWO_DIGIT_COUNTRY_CODES = frozenset(
    {20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54}
    | {55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98}
)
"""E.164's two-digit country calling codes; 1 and 7 have one digit, all others three."""


def _country_code(digits: str) -> str:
    if digits[0] in "17":
        return digits[0]
    return digits[:2] if int(digits[:2]) in _TWO_DIGIT_COUNTRY_CODES else digits[:3]
