"""The Lambda entry point: Twilio's webhook requests in, TwiML out.

One set of routes serves every front door: the API Gateway REST API that template.yaml deploys,
an HTTP API, or a Function URL. Your replies are written in `replies.py`.
"""

import logging
import re
import traceback

from aws_lambda_powertools.event_handler import (
    APIGatewayHttpResolver,
    APIGatewayRestResolver,
    Response,
)
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import ForbiddenError, ServiceError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from replies import reply
from sms_webhook import delivery_status
from sms_webhook.config import (
    ConfigurationError,
    SecretUnavailableError,
    status_callbacks_enabled,
)
from sms_webhook.deduplication import AlreadyInProgressError, answer_once
from sms_webhook.form import FormFields, TooLargeError, UndecodableError, request_fields
from sms_webhook.message import IncomingMessage, masked_number
from sms_webhook.proxy_event import front_door
from sms_webhook.signature import rejection_reason
from sms_webhook.telemetry import count, logger
from sms_webhook.twiml import messaging_response
from sms_webhook.urls import public_url_for_logs, status_callback_url

router = Router()


@router.route("/sms", method=["GET", "POST"])
def incoming_message() -> Response:
    message = IncomingMessage.from_fields(_verified_fields())
    details = {
        "from": masked_number(message.from_number),
        "message_sid": message.sid,
        "body_length": len(message.body),
        "media_count": len(message.media),
    }
    if logger.log_level <= logging.DEBUG:
        details["body"] = message.body
    logger.info("incoming message", extra=details)
    count("MessagesReceived")

    callback = status_callback_url(router.current_event) if status_callbacks_enabled() else None

    def answer(message: IncomingMessage) -> str:
        twiml = messaging_response(reply(message), status_callback=callback)
        count("RepliesSent", twiml.count("<Message"))
        return twiml

    return _twiml(answer_once(message, answer, router.lambda_context))


@router.post("/status")
def delivery_report() -> Response:
    delivery_status.record(delivery_status.DeliveryStatus.from_fields(_verified_fields()))
    return _twiml(messaging_response(None))


@router.route("/sms", method=["PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
def other_method_on_sms() -> Response:
    return _method_not_allowed("GET, POST")


@router.route("/status", method=["GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
def other_method_on_status() -> Response:
    return _method_not_allowed("POST")


def _verified_fields() -> FormFields:
    """The request's form fields, once its signature holds; a refusal is logged and counted."""
    event = router.current_event
    fields = request_fields(event)
    rejection = rejection_reason(event, fields)
    if rejection:
        url = public_url_for_logs(event)
        logger.warning("request rejected", extra={"reason": rejection.value, "url": url})
        count("SignatureRejections", reason=rejection.name.lower())
        raise ForbiddenError("Forbidden: invalid Twilio signature")
    return fields


@router.exception_handler(ServiceError)
def client_error(error: ServiceError) -> Response:
    return _plain_text(int(error.status_code), str(error.msg))


@router.exception_handler(UndecodableError)
def undecodable_request(error: UndecodableError) -> Response:
    logger.warning("request rejected", extra={"reason": str(error)})
    return _plain_text(400, f"Bad Request: {error}")


@router.exception_handler(TooLargeError)
def too_large(error: TooLargeError) -> Response:
    logger.warning("request rejected", extra={"reason": str(error)})
    return _plain_text(413, f"Content Too Large: {error}")


@router.exception_handler(AlreadyInProgressError)
def duplicate_in_progress(error: AlreadyInProgressError) -> Response:
    # The first delivery is being answered now; answering this copy with nothing keeps Twilio from
    # sending a second reply, and from logging an error or trying the fallback URL.
    logger.info("duplicate delivery while the first is answered", extra={"message_sid": str(error)})
    return _twiml(messaging_response(None))


@router.exception_handler(ConfigurationError)
def misconfigured(error: ConfigurationError) -> Response:
    logger.error("function misconfigured", extra={"reason": str(error)})
    return _plain_text(500, "Internal Server Error: the webhook is not configured")


@router.exception_handler(SecretUnavailableError)
def secret_unavailable(error: SecretUnavailableError) -> Response:
    # Fail closed: without the secret no signature can be checked, so nothing is answered.
    logger.error("secret unavailable", extra={"reason": str(error)})
    count("TokenFetchFailures")
    return _plain_text(503, "Service Unavailable: try again later")


@router.exception_handler(Exception)
def unexpected_error(error: Exception) -> Response:
    # A bug, most likely in reply code. The type and the line that raised are enough to find it;
    # a stack trace or the exception's text could carry a message's content into the logs.
    frames = traceback.extract_tb(error.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "unknown"
    logger.error("unexpected error", extra={"error": type(error).__name__, "at": where})
    return _plain_text(500, "Internal Server Error")


# API Gateway REST puts a custom domain's base path mapping in `path` (`/twilio/sms`); only the
# resources the API defines reach the function, so routing looks at the last segment alone.
_BASE_PATH_MAPPING = re.compile(r"^.*(?=/[^/]+/?$)")

rest_app = APIGatewayRestResolver(strip_prefixes=[_BASE_PATH_MAPPING])
rest_app.include_router(router)
http_app = APIGatewayHttpResolver()
http_app.include_router(router)

_NOT_AN_HTTP_EVENT = {
    "statusCode": 400,
    "headers": {"Content-Type": "text/plain"},
    "body": "Bad Request: not an API Gateway or Function URL event",
}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    door = front_door(event)
    if door is None:
        logger.warning("request rejected", extra={"reason": _NOT_AN_HTTP_EVENT["body"]})
        return _NOT_AN_HTTP_EVENT
    app = rest_app if door == "rest" else http_app
    return app.resolve(event, context)


def _twiml(document: str) -> Response:
    return Response(200, content_type="text/xml", body=document)


def _method_not_allowed(allowed: str) -> Response:
    return _plain_text(405, f"Method Not Allowed: use {allowed}", headers={"Allow": allowed})


def _plain_text(status: int, body: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, content_type="text/plain", body=body, headers=headers)
