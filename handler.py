"""The Lambda entry points, as template.yaml names them:

- `lambda_handler`, the webhook: Twilio's requests in, TwiML out. One set of routes serves every
  front door: the API Gateway REST API that template.yaml deploys, an HTTP API, or a Function URL.
- `later_replies_handler`, the worker (`sms_webhook/worker.py`): runs the jobs queued for later,
  the handlers that run later and the texts sent first, and sends their texts.

Both answer with the router of `replies.py`, where your replies are written.

Routing is a table of paths and methods rather than Powertools' event handler: importing the
event handler costs more than this function's whole cold-start budget, for two routes (see the
README's Performance section).
"""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from replies import router
from sms_webhook import deadlines, delivery_status, local_run, loop_guard, whatsapp_window
from sms_webhook.config import (
    ConfigurationError,
    SecretUnavailableError,
    status_callbacks_enabled,
)
from sms_webhook.consent import consent_answer, reply_blocked
from sms_webhook.deduplication import AlreadyInProgressError, answer_once
from sms_webhook.form import (
    EmptyFormError,
    FormFields,
    TooLargeError,
    UndecodableError,
    request_fields,
)
from sms_webhook.jobs import NotScheduledError
from sms_webhook.later import QueueUnavailableError, answer_now
from sms_webhook.message import IncomingMessage, MalformedMessageError
from sms_webhook.origin import replying_to
from sms_webhook.proxy_event import HttpRequest, read_request
from sms_webhook.rejections import RejectionLog
from sms_webhook.router import Router
from sms_webhook.segments import smart_encodes_for
from sms_webhook.signature import Rejected, replay_key, signing_secret
from sms_webhook.snapstart import is_snapshot_init, prime
from sms_webhook.telemetry import count, emf, logger, pseudonym, raised_at
from sms_webhook.twiml import message_count, messaging_response, sent_segments
from sms_webhook.urls import STATUS_ROUTE, status_callback_url


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    content_type: str = "text/plain"
    headers: dict[str, str] = field(default_factory=dict)


def incoming_message(request: HttpRequest, context: Any) -> Answer:
    fields, secret = _verified_fields(request)
    message = IncomingMessage.from_fields(fields)
    details = {
        "from": pseudonym(message.from_number, secret),
        "message_sid": message.sid,
        "body_length": len(message.body),
        "media_count": len(message.media),
    }
    if logger.log_level <= logging.DEBUG:
        details["body"] = message.body

    callback = status_callback_url(request) if status_callbacks_enabled() else None
    keys = (message.sid, replay_key(request))
    try:
        twiml = answer_once(
            keys, lambda: _reply_document(message, fields, callback, secret), context
        )
    except Exception:  # still a message received; the error is logged where it is answered
        logger.info("incoming message", extra={**details, **emf({"MessagesReceived": 1})})
        raise
    replies = message_count(twiml)
    segments, encoding = sent_segments(twiml, message.from_number)
    metrics = emf({"MessagesReceived": 1, "RepliesSent": replies, "SegmentsSent": segments})
    sent = {"replies": replies, "segments": segments, "encoding": encoding}
    logger.info("incoming message", extra={**details, **sent, **metrics})
    return _twiml(twiml)


def _reply_document(
    message: IncomingMessage, fields: FormFields, callback: str | None, secret: str
) -> str:
    """The TwiML answer; for a handler that runs later, its acknowledgement, and for a reply
    made too late for Twilio, nothing: what goes later is queued first (`later.answer_now`).
    An opt-out or opt-in is answered by Twilio, not by the handlers (`consent`). A WhatsApp
    message opens its sender's 24-hour window (`whatsapp_window`). A message of a loop is not
    answered, though its handler runs (one that runs later is not queued: `loop_guard`)."""
    routes = _router()
    with replying_to(message, callback):  # for the texts the handlers send first
        consent = consent_answer(message, routes)
        whatsapp_window.note_message(message)  # after an opt-in, which it then counts
        if consent is not None:  # an opt-out or opt-in: Twilio answers it
            return messaging_response(consent or None)
        reply = routes.reply(message)
        if loop_guard.suppresses(message, reply, secret):  # no reply; nothing queued for later
            reply = None
        answer = answer_now(reply, fields, callback, routes)
    if reply_blocked(message):
        answer = None
    smart = smart_encodes_for(message.from_number)
    return messaging_response(answer, callback, smart_encoding=smart)


def delivery_report(request: HttpRequest, context: Any) -> Answer:
    fields, _ = _verified_fields(request)
    status = delivery_status.DeliveryStatus.from_fields(fields)
    nothing = messaging_response(None)

    def record() -> str:
        delivery_status.record(status)
        return nothing

    return _twiml(answer_once((status.key,), record, context))


ROUTES: dict[str, dict[str, Callable[[HttpRequest, Any], Answer]]] = {
    "/sms": {"GET": incoming_message, "POST": incoming_message},
    f"/{STATUS_ROUTE}": {"POST": delivery_report},
}


rejection_log = RejectionLog()


def _verified_fields(request: HttpRequest) -> tuple[FormFields, str]:
    """The request's form fields and the secret they were signed with, once the signature
    holds; a rejection is logged and counted."""
    fields = request_fields(request)
    try:
        return fields, signing_secret(request, fields)
    except Rejected as rejected:
        rejection_log.record(request, rejected.rejection)
        raise


def _answer(request: HttpRequest, context: Any) -> Answer:
    """The answer to the request, whatever goes wrong on the way."""
    methods = ROUTES.get(request.route)
    if methods is None:
        return Answer(404, "Not Found")
    route = methods.get(request.method)
    if route is None:
        allowed = ", ".join(methods)
        return Answer(405, f"Method Not Allowed: use {allowed}", headers={"Allow": allowed})
    try:
        return route(request, context)
    except Exception as error:
        answer = next(
            (ERROR_ANSWERS[kind] for kind in type(error).__mro__ if kind in ERROR_ANSWERS),
            _unexpected_error,
        )
        return answer(error)


def _forbidden(_: Exception) -> Answer:
    return Answer(403, "Forbidden: invalid Twilio signature")  # logged where it was rejected


def _bad_request(error: Exception) -> Answer:
    logger.warning("request rejected", extra={"reason": str(error)})
    return Answer(400, f"Bad Request: {error}")


def _too_large(error: Exception) -> Answer:
    logger.warning("request rejected", extra={"reason": str(error)})
    return Answer(413, f"Content Too Large: {error}")


def _already_in_progress(error: Exception) -> Answer:
    # The first delivery is being answered now; answering this copy with nothing keeps Twilio
    # from sending a second reply, and from logging an error or trying the fallback.
    logger.info("duplicate delivery while the first is answered", extra={"key": str(error)})
    return _twiml(messaging_response(None))


def _misconfigured(error: Exception) -> Answer:
    logger.error("function misconfigured", extra={"reason": str(error)})
    return Answer(500, "Internal Server Error: the webhook is not configured")


def _secret_unavailable(error: Exception) -> Answer:
    # Fail closed: without the secret no signature can be checked, so nothing is answered.
    logger.error("secret unavailable", extra={"reason": str(error)})
    count("TokenFetchFailures")
    return Answer(503, "Service Unavailable: try again later")


def _queue_unavailable(error: Exception) -> Answer:
    # Nothing was queued, so nothing would ever be sent: say so, rather than acknowledge.
    logger.error("later reply not queued", extra={"reason": str(error)})
    return Answer(503, "Service Unavailable: try again later")


def _not_scheduled(error: Exception) -> Answer:
    # A reminder or a question's deadline could not be set: acknowledging the message would
    # promise what will not come (logged and counted where it failed).
    return Answer(503, "Service Unavailable: try again later")


def _unexpected_error(error: Exception) -> Answer:
    # A bug, most likely in reply code: its type and where it was raised are enough to find it.
    logger.error("unexpected error", extra={"error": type(error).__name__, "at": raised_at(error)})
    local_run.failed(error)  # on this machine, its traceback
    return Answer(500, "Internal Server Error")


ERROR_ANSWERS: dict[type[Exception], Callable[[Exception], Answer]] = {
    Rejected: _forbidden,
    EmptyFormError: _bad_request,
    UndecodableError: _bad_request,
    MalformedMessageError: _bad_request,
    TooLargeError: _too_large,
    AlreadyInProgressError: _already_in_progress,
    ConfigurationError: _misconfigured,
    SecretUnavailableError: _secret_unavailable,
    QueueUnavailableError: _queue_unavailable,
    NotScheduledError: _not_scheduled,
}
"""What each error becomes, the most specific class first; anything else is `_unexpected_error`."""


NOT_AN_HTTP_EVENT = Answer(400, "Bad Request: not a well-formed API Gateway or Function URL event")


@logger.inject_lambda_context(log_event=False)  # an event holds numbers, texts and signatures
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    deadlines.start_request(context.get_remaining_time_in_millis())
    rejection_log.catch_up()
    request = read_request(event)
    logger.set_correlation_id(request.request_id if request else None)
    if request is None:
        logger.warning("request rejected", extra={"reason": NOT_AN_HTTP_EVENT.body})
        answer = NOT_AN_HTTP_EVENT
    else:
        answer = _answer(request, context)
    return {
        "statusCode": answer.status,
        "headers": {"Content-Type": answer.content_type, **answer.headers},
        "body": answer.body,
        "isBase64Encoded": False,
    }


@logger.inject_lambda_context(log_event=False)
def later_replies_handler(event: Any, context: Any) -> Mapping[str, object]:
    """The worker: each job of the SQS batch run, and reported as done or failed, so that SQS
    retries only the failed ones."""
    from sms_webhook import worker  # the worker's artifact alone holds twilio's REST client

    return worker.run_batch(event, context, _router())


def _router() -> Router:
    """replies.py's router, or the one a local run answers with instead (a test's own)."""
    return local_run.router() or router


def _twiml(document: str) -> Answer:
    return Answer(200, document, content_type="text/xml")


if is_snapshot_init():
    prime()
