"""The webhook's answer read as Twilio reads it: the messages a TwiML document sends back."""

from dataclasses import dataclass
from xml.etree import ElementTree

from sms_webhook.twiml import texts_in


@dataclass(frozen=True)
class OutgoingMessage:
    """One `<Message>`: the text Twilio would send, and the URLs of its pictures or files."""

    text: str
    media: tuple[str, ...] = ()
    template: str = ""
    """A Content template's sid, sent in place of a text (`send_text(template=)`): never in a
    TwiML answer, only in the outbox."""
    variables: str = ""
    """Its variables' values, as Twilio takes them: a JSON object by name."""


class NotTwimlError(ValueError):
    """The answer is not a TwiML `<Response>` document."""


def twiml_messages(document: str | bytes) -> list[OutgoingMessage]:
    """The messages of a TwiML answer, in order; none for an empty `<Response/>` (no reply)."""
    try:
        response = ElementTree.fromstring(document)  # noqa: S314 - our own server's answer
    except ElementTree.ParseError as error:
        raise NotTwimlError(f"the answer is not XML ({error})") from error
    if response.tag != "Response":
        raise NotTwimlError(f"the answer is <{response.tag}>, not a TwiML <Response>")
    return [OutgoingMessage(text.body, tuple(text.media)) for text in texts_in(response)]
