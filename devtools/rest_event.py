"""The event API Gateway's REST API (Lambda proxy integration, payload 1.0) makes of a request."""

import base64
import time
import uuid
from urllib.parse import parse_qsl


def rest_event(
    method: str,
    path: str,
    *,
    domain: str,
    headers: list[tuple[str, str]],
    query: str = "",
    body: bytes = b"",
    public_path: str | None = None,
    stage: str = "Prod",
    base64_body: bool | None = None,
    request_id: str | None = None,
    epoch: float | None = None,
) -> dict:
    """The event for `method path?query` sent to `domain`.

    `path` is what the function routes on (`/sms`); `public_path` is the path on the host that
    was called (`/Prod/sms` on execute-api; the same as `path` on a custom domain, the default).
    The body is base64 when asked, or when it is not UTF-8 text. `request_id` and `epoch` make
    the event reproducible (sample events); by default they are new and now.
    """
    single_headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in headers:
        single_headers[name] = value
        multi_headers.setdefault(name, []).append(value)

    multi_query: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True, errors="replace"):
        multi_query.setdefault(name, []).append(value)

    if base64_body is None:
        base64_body = not _is_utf8(body)
    now = time.time() if epoch is None else epoch
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": single_headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": public_path or path,
            "stage": stage,
            "domainName": domain,
            "domainPrefix": domain.split(".")[0],
            "requestId": request_id or str(uuid.uuid4()),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": "127.0.0.1", "userAgent": single_headers.get("User-Agent")},
        },
        "body": (base64.b64encode(body).decode() if base64_body else body.decode()) or None,
        "isBase64Encoded": base64_body,
    }


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
