"""The TwiML document that answers Twilio: what to send back, built with twilio's own classes."""

from collections.abc import Iterable

from twilio.twiml.messaging_response import MessagingResponse

Reply = str | Iterable[str] | None
"""What reply code returns: one text, several texts (one message each), or None for no reply."""


def messaging_response(reply: Reply) -> str:
    """TwiML for the reply; `<Response />` when there is nothing to send.

    Empty texts are left out: Twilio refuses a `<Message>` with no body.
    """
    texts = [reply] if isinstance(reply, str) else list(reply or ())
    response = MessagingResponse()
    for text in texts:
        if text:
            response.message(text)
    return str(response)
