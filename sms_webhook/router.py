"""The router: which of your handlers answers a message, by keyword, pattern or any test.

    router = Router()

    @router.keyword("HOURS", "OPEN")
    def opening_hours(message: IncomingMessage) -> Reply:
        return "We're open 9am-5pm."

    router.reply(message)   # the first handler whose test matches, else the fallback

Matching ignores case and the spaces around the text. A keyword matches the message's first word
(`hours`, ` Hours? `, `HOURS please`, not `HOURSE`); one that ends in a non-ASCII letter matches
the start of the text whatever follows, since Japanese (Chinese...) puts no space after a word
(`料金` matches `料金を教えて`). A pattern is a regular expression searched in the text.
"""

import re
from collections.abc import Callable
from typing import TypeVar

from sms_webhook.message import IncomingMessage
from sms_webhook.twiml import Reply

Handler = Callable[[IncomingMessage], Reply]
H = TypeVar("H", bound=Handler)


def keyword_pattern(word: str) -> str:
    """`word` taken literally, then the end of a word where spaces mark one (`HOURS` is not
    `HOURSE`); after a non-ASCII letter anything may follow, as in Japanese, which has no spaces."""
    boundary = "" if word[-1:].isalpha() and not word[-1:].isascii() else r"(?!\w)"
    return re.escape(word) + boundary


class Router:
    """Handlers in the order they were registered, each with its test, and a fallback: the first
    handler whose test the message passes answers it."""

    def __init__(self) -> None:
        self._routes: list[tuple[Callable[[IncomingMessage], bool], Handler]] = []
        self._fallback: Handler | None = None

    def when(self, test: Callable[[IncomingMessage], bool]) -> Callable[[H], H]:
        """Register a handler for the messages that pass `test`."""

        def register(handler: H) -> H:
            self._routes.append((test, handler))
            return handler

        return register

    def keyword(self, *words: str) -> Callable[[H], H]:
        """Register a handler for messages whose first word is one of `words`."""
        alternatives = "|".join(keyword_pattern(word.strip()) for word in words)
        return self.pattern(rf"^(?:{alternatives})")

    def pattern(self, regex: str) -> Callable[[H], H]:
        """Register a handler for messages in which `regex` is found."""
        compiled = re.compile(regex, re.IGNORECASE)
        return self.when(lambda message: compiled.search(message.body.strip()) is not None)

    def fallback(self, handler: H) -> H:
        """Register the handler for every message no other handler takes."""
        self._fallback = handler
        return handler

    def reply(self, message: IncomingMessage) -> Reply:
        """The reply of the first matching handler, or of the fallback (None without one)."""
        for test, handler in self._routes:
            if test(message):
                return handler(message)
        return self._fallback(message) if self._fallback else None
