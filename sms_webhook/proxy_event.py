"""Which front door sent this event, and is it well-formed enough to route?

Anything can be handed to a Lambda function (a test event, another service's event, a hand-edited
JSON file). Checking the few fields the webhook reads, with their types, turns such input into a
clear 400 instead of an exception deep in the router.
"""

from collections.abc import Mapping
from typing import Any, Literal

from aws_lambda_powertools.utilities.data_classes import (
    APIGatewayProxyEvent,
    APIGatewayProxyEventV2,
)

ProxyEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2
"""The event as the router hands it over: REST (1.0), or HTTP API and Function URL (2.0)."""

FrontDoor = Literal["rest", "http"]
"""`rest`: API Gateway REST API (payload 1.0). `http`: HTTP API or Function URL (payload 2.0)."""


def front_door(event: Any) -> FrontDoor | None:
    """The kind of event this is, or None when it is not a well-formed HTTP event."""
    if not isinstance(event, Mapping) or not _has_valid_common_fields(event):
        return None
    if event.get("version") == "2.0":
        return "http" if _is_payload_v2(event) else None
    return "rest" if _is_payload_v1(event) else None


def _is_payload_v1(event: Mapping) -> bool:
    context = event.get("requestContext")
    return (
        isinstance(event.get("httpMethod"), str)
        and isinstance(event.get("path"), str)
        and isinstance(context, Mapping)
        and _is_optional(context.get("path"), str)
        and _is_optional(context.get("domainName"), str)
        and _is_optional_map(event.get("multiValueHeaders"), list)
        and _is_optional_map(event.get("queryStringParameters"), str)
        and _is_optional_map(event.get("multiValueQueryStringParameters"), list)
    )


def _is_payload_v2(event: Mapping) -> bool:
    context = event.get("requestContext")
    return (
        isinstance(event.get("rawPath"), str)
        and _is_optional(event.get("rawQueryString"), str)
        and isinstance(context, Mapping)
        and isinstance(context.get("stage"), str)
        and _is_optional(context.get("domainName"), str)
        and isinstance(context.get("http"), Mapping)
        and isinstance(context["http"].get("method"), str)
    )


def _has_valid_common_fields(event: Mapping) -> bool:
    return (
        _is_optional_map(event.get("headers"), str)
        and _is_optional(event.get("body"), str)
        and _is_optional(event.get("isBase64Encoded"), bool)
    )


def _is_optional(value: Any, kind: type) -> bool:
    return value is None or isinstance(value, kind)


def _is_optional_map(value: Any, value_kind: type) -> bool:
    """None, or a mapping of str to `value_kind` (for lists: lists of str)."""
    if value is None:
        return True
    if not isinstance(value, Mapping):
        return False
    for name, item in value.items():
        if not isinstance(name, str) or not isinstance(item, value_kind):
            return False
        if value_kind is list and not all(isinstance(element, str) for element in item):
            return False
    return True
