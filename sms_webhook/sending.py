"""Sending one message with twilio's REST client, and what Twilio's answer means for a retry.

A refusal of the recipient (an unsubscribed or invalid number, a closed WhatsApp session) is
final: another attempt would be refused again. Any other error (a 429, a 5xx, a rejected key) or a
connection that could not be made may be mended by time or by whoever runs the stack: the job is
retried. A request Twilio got, whose answer did not come in time or cannot be read, may have been
sent. Of the function's code only the worker imports this module: the webhook's artifact holds no
REST client.
"""

from functools import cache
from http import HTTPStatus
from typing import Any, NamedTuple

from sms_webhook.config import api_key, auth_tokens

UNSUBSCRIBED = "21610"
"""Twilio's refusal of a recipient who opted out of the sender's texts (STOP)."""

REFUSALS = frozenset({"21211", UNSUBSCRIBED, "21612", "21614", "21617", "63016", "63021"})
"""Twilio's refusals of one recipient or text (an invalid or unsubscribed number, a landline, a
WhatsApp session closed...): another attempt would be refused again. A region not enabled
(21408) is not one of them: whoever runs the account can enable it, then replay the job."""

ERROR_CODES = REFUSALS | {"20003", "20429", "21408", "5xx", "network", "timeout", "unreadable"}
"""How `LaterRepliesFailed` is broken down: Twilio's codes a sender meets, its server errors, no
connection to it (`network`), no answer in time (`timeout`), an answer twilio's client cannot
read (`unreadable`); anything else is `other`."""

HTTP_TIMEOUT = 10.0
"""Seconds twilio's client waits for Twilio's API to connect, and then to answer."""


class Outgoing(NamedTuple):
    """One message to send, with what Twilio's REST API needs for it."""

    account_sid: str
    to: str
    sender: str
    """A number or channel address, or a Messaging Service's sid (`MG…`)."""
    body: str
    media: tuple[str, ...]
    status_callback: str | None
    template: str = ""
    """A Content template's sid (`HX…`) sent instead of a body (`send_text(template=)`)."""
    variables: str = ""
    """The values of the template's variables, as Twilio takes them: a JSON object by name."""


class TwilioError(Exception):
    def __init__(self, code: str, status: int = 0) -> None:
        super().__init__(code)
        self.code = code
        """Twilio's error code (its HTTP status when it gave none), `network` when it could not
        be reached, `timeout` when it did not answer in time."""
        self.status = status

    @property
    def counted_as(self) -> str:
        """The error in `ERROR_CODES`' vocabulary."""
        if self.status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            return "5xx"
        return self.code if self.code in ERROR_CODES else "other"


class RetryableError(TwilioError):
    """Twilio could not take the message now (429, 5xx, the network): try the job again later."""


class RefusedError(TwilioError):
    """Twilio refused the message for good (its error code): retrying would not change that."""


class UnansweredError(TwilioError):
    """Twilio got the request and gave no answer that says what it did: the message may have
    been sent."""


UNANSWERED = {
    "timeout": "Twilio did not answer in time",
    "unreadable": "Twilio's answer could not be read",
}
"""Why an `UnansweredError` leaves a text maybe sent, by its code."""


def to_twilio(outgoing: Outgoing) -> str:
    """Send it with twilio's REST client: the message's sid, or the `TwilioError` that says
    whether to try again."""
    from requests import RequestException
    from twilio.base.exceptions import TwilioRestException, TwilioServiceException
    from twilio.rest import Client

    username, password = _credentials(outgoing.account_sid)
    client = Client(username, password, outgoing.account_sid, http_client=http_client())
    sender = {
        "messaging_service_sid" if outgoing.sender.startswith("MG") else "from_": outgoing.sender
    }
    extra: dict[str, object] = {"media_url": list(outgoing.media)} if outgoing.media else {}
    if outgoing.body:  # a message of media alone has no body
        extra["body"] = outgoing.body
    if outgoing.template:
        extra["content_sid"] = outgoing.template
    if outgoing.variables:
        extra["content_variables"] = outgoing.variables
    try:
        sent = client.messages.create(
            to=outgoing.to,
            status_callback=outgoing.status_callback,
            **sender,
            **extra,
        )
    except (TwilioRestException, TwilioServiceException) as error:  # Twilio's error answer
        raise _classified(error.status, error.code) from None
    except RequestException as error:
        if _nothing_sent(error):
            raise RetryableError("network") from None
        raise UnansweredError("timeout") from None
    except (ValueError, AttributeError):  # a 2xx whose body is no JSON object: sent, maybe
        raise UnansweredError("unreadable") from None
    if not isinstance(sent.sid, str):  # a 2xx that names no message (an empty body)
        raise UnansweredError("unreadable")
    sid: str = sent.sid
    return sid


def _nothing_sent(error: Exception) -> bool:
    """Whether the request failed before Twilio could have read it: no connection was made."""
    from requests.exceptions import ConnectTimeout, SSLError
    from urllib3.exceptions import NewConnectionError

    if isinstance(error, ConnectTimeout | SSLError):  # no HTTP byte sent before the handshake
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, NewConnectionError)


@cache
def http_client() -> Any:
    """twilio's HTTP client, one per container: its connections are kept between messages."""
    from twilio.http.http_client import TwilioHttpClient

    return TwilioHttpClient(timeout=HTTP_TIMEOUT)


def _credentials(account_sid: str) -> tuple[str, str]:
    """The API key when one is configured, else the account's auth token (the current one)."""
    return api_key() or (account_sid, auth_tokens()[0])


def _classified(status: int | None, code: object) -> TwilioError:
    """A refusal of the recipient is final; anything else (an outage, throttling, a rejected key,
    a wrong account) may be mended, by time or by whoever runs the stack: the job is retried."""
    status = int(status or 0)
    code = str(code or ("20429" if status == HTTPStatus.TOO_MANY_REQUESTS else status))
    return RefusedError(code, status) if code in REFUSALS else RetryableError(code, status)
