"""The events Lambda's HTTP front doors make of a request, filled into their shapes as AWS
documents them: API Gateway's REST API (Lambda proxy integration, payload 1.0), and the HTTP API
and function URLs (payload 2.0).

`make run` turns each request it serves into a REST API event, `make event` writes signed ones,
and the benchmark and the tests build theirs: all with these two functions, each on a shape held
as JSON data.
"""

import base64
import copy
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from sms_webhook.form import FormFields

Event = dict[str, Any]

REST_SHAPE = Path(__file__).parent / "events" / "rest.json"
"""The REST API's event as AWS documents it, with only the fields the function and Powertools
read; the tests fill in the whole of it (tests/events/rest.json)."""


@dataclass(frozen=True)
class Target:
    """Where a request was sent: the host, the path the function routes on (`/sms`), the path on
    the host that was called (`/Prod/sms` on execute-api; the same as `path` on a custom domain,
    the default) and the API's stage."""

    domain: str
    path: str = "/sms"
    public_path: str | None = None
    stage: str = "Prod"


@dataclass(frozen=True)
class Stamp:
    """What tells one event from another: its request id and the time it was received. A fixed
    one makes an event reproducible (the sample events); `Stamp.now()` makes a new one."""

    request_id: str
    epoch: float

    @classmethod
    def now(cls) -> "Stamp":
        return cls(str(uuid.uuid4()), time.time())


def rest_event(
    method: str,
    target: Target,
    *,
    headers: Iterable[tuple[str, str]] = (),
    query: str = "",
    body: bytes = b"",
    base64_body: bool | None = None,
    stamp: Stamp | None = None,
    shape: Event | None = None,
) -> Event:
    """The REST API's event for `method` on `target` with this query string, headers and body.

    It is `shape` (by default REST_SHAPE) filled in. The headers are the shape's with those given
    set on top (a name given twice has both values). The body is base64 when asked, or when it is
    not UTF-8 text. The request id and time are the shape's unless `stamp` gives others.
    """
    event = copy.deepcopy(shape) if shape is not None else json.loads(_rest_shape())
    multi_headers = {**(event["multiValueHeaders"] or {}), **FormFields.from_pairs(headers)}
    single_headers = {name: values[-1] for name, values in multi_headers.items()}
    multi_query = dict(FormFields.from_pairs(_query_pairs(query)))
    if base64_body is None:
        base64_body = not _is_utf8(body)
    event.update(
        resource=target.path,
        path=target.path,
        httpMethod=method,
        headers=single_headers or None,
        multiValueHeaders=multi_headers or None,
        queryStringParameters={name: values[-1] for name, values in multi_query.items()} or None,
        multiValueQueryStringParameters=multi_query or None,
        body=(base64.b64encode(body).decode() if base64_body else body.decode()) or None,
        isBase64Encoded=base64_body,
    )
    context = event["requestContext"]
    context.update(
        resourcePath=target.path,
        httpMethod=method,
        path=target.public_path or target.path,
        stage=target.stage,
        domainName=target.domain,
        domainPrefix=target.domain.split(".")[0],
    )
    if stamp is not None:
        context.update(
            requestId=stamp.request_id,
            requestTime=time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(stamp.epoch)),
            requestTimeEpoch=int(stamp.epoch * 1000),
        )
    context["identity"]["userAgent"] = single_headers.get("User-Agent")
    return event


def v2_event(
    shape: Event,
    method: str = "POST",
    *,
    raw_path: str = "/sms",
    stage: str = "$default",
    query: str = "",
    body: bytes = b"",
) -> Event:
    """An HTTP API or function URL event (payload 2.0): `shape` with the method, the path that
    was called (a named stage is part of it), the stage, the query string and the body filled
    in. The body is base64, as both front doors deliver a form; a query name given twice has its
    values joined with commas in `queryStringParameters`, as AWS does."""
    event = copy.deepcopy(shape)
    event["requestContext"]["http"].update(method=method, path=raw_path)
    event["requestContext"]["stage"] = stage
    event.update(
        rawPath=raw_path,
        rawQueryString=query,
        body=base64.b64encode(body).decode(),
        isBase64Encoded=True,
    )
    if query:
        fields = FormFields.from_pairs(_query_pairs(query))
        event["queryStringParameters"] = {name: ",".join(values) for name, values in fields.items()}
    return event


@cache
def _rest_shape() -> str:
    return REST_SHAPE.read_text()


def _query_pairs(query: str) -> list[tuple[str, str]]:
    """The decoded names and values of a query string, as the front doors decode them."""
    return parse_qsl(query, keep_blank_values=True, errors="replace")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
