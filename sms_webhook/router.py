"""The router: which of your handlers answers a message, by keyword, pattern, button or any test.

    router = Router()

    @router.keyword("HOURS", "OPEN")
    def opening_hours(message: IncomingMessage) -> Reply:
        return "We're open 9am-5pm."

    router.reply(message)   # the first handler whose test matches, else the fallback

Matching ignores case and the spaces around the text. A keyword matches the message's first word
(`hours`, ` Hours? `, `HOURS please`, not `HOURSE`); one that ends in a non-ASCII letter matches
the start of the text whatever follows, since Japanese (Chinese...) puts no space after a word
(`料金` matches `料金を教えて`). A pattern is a regular expression searched in the text.

    @router.button("CONFIRM", "BOOK_NOW")
    def confirmed(message: IncomingMessage) -> Reply:
        return "Booked: see you on Monday."

A button route answers a WhatsApp quick-reply button the sender pressed, by the payload you gave
it: the whole payload, any case. Keywords and patterns read only the text: a typed "confirm"
presses no button, while a pressed button, whose text usually arrives as the body too, may match
them as well. As for every route, the first one registered that matches answers.

    @router.keyword("REPORT", later=True, acknowledgement="Working on it...")
    def report(message: IncomingMessage, conversation: Conversation) -> Reply:
        return build_the_report()   # minutes, not seconds

A handler registered with `later=True` answers after the webhook has: Twilio gets the
acknowledgement at once (none without one), and the handler runs in the worker, whose reply is
sent as texts (`sms_webhook/later.py`). The job queued for it names it by its function's name, or
the `name=` it was registered with: give its old name when you rename a function that runs later,
and the jobs already queued still find it.

    @router.timer
    def survey_nudge(timer: Timer, conversation: Conversation) -> Reply:
        return "Still there? Your answer helps us."

A timer handler answers no message: it runs in the worker when a timer goes off, a reminder
(`send_text(to, at=..., handler="survey_nudge", key=...)`) or the deadline of a question no
answer came to (`conversation.expect(within=..., otherwise="survey_nudge")`), and its reply is
sent as texts to `timer.to`. It is found by its name as a handler that runs later is. A router
with timer handlers reads the sender's conversation for every message: a message that comes in
time voids the deadline of the question it answers, whichever handler answers it.
"""

import re
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any, NamedTuple, TypedDict, TypeVar, Unpack, cast, overload

from sms_webhook.config import conversations_kept
from sms_webhook.conversation import Conversation
from sms_webhook.deadlines import reply_code
from sms_webhook.message import IncomingMessage
from sms_webhook.twiml import Reply, Text, reply_texts

Handler = Callable[[IncomingMessage], Reply] | Callable[[IncomingMessage, Conversation], Reply]
"""A handler takes the message, and, when it has a second parameter, the conversation."""


class Timer(NamedTuple):
    """A timer that went off: a reminder's (`send_text(..., handler=)`), or a question's deadline
    (`Conversation.expect`)."""

    to: str
    """Whom the conversation is with, and the reply goes to."""
    number: str
    """Your Twilio number, as the person's messages name it."""
    key: str
    """The reminder's key (a deadline's: `deadline <id>`)."""
    due: datetime
    """When it was due."""


TimerHandler = Callable[[Timer], Reply] | Callable[[Timer, Conversation], Reply]
"""A timer handler takes the timer, and, when it has a second parameter, the conversation."""
T = TypeVar("T", bound=TimerHandler)
Test = Callable[[IncomingMessage], bool] | Callable[[IncomingMessage, Conversation], bool]
H = TypeVar("H", bound=Handler)


class Options(TypedDict, total=False):
    """How a handler is registered, beside its test."""

    later: bool
    """It runs in the worker, with minutes, and its reply is sent as texts (default False)."""
    acknowledgement: str
    """What the webhook answers at once for a handler that runs later (default: nothing)."""
    name: str
    """The name a job for a handler that runs later finds it by (default: its function's)."""


class Later(NamedTuple):
    """A message whose handler runs later: what the webhook answers Twilio with meanwhile."""

    handler: str
    """The handler's name, by which the worker finds it."""
    acknowledgement: str | None
    """The text answered at once, or None for no text."""


def keyword_pattern(word: str) -> str:
    """`word` taken literally, then the end of a word where spaces mark one (`HOURS` is not
    `HOURSE`); after a non-ASCII letter anything may follow, as in Japanese, which has no spaces."""
    boundary = "" if word[-1:].isalpha() and not word[-1:].isascii() else r"(?!\w)"
    return re.escape(word) + boundary


def takes_conversation(function: Callable[..., Any]) -> bool:
    """Whether a handler or test has a second positional parameter, the conversation.

    A plain function's own code says how many it has; `inspect`, which follows decorators
    (`functools.wraps`) and handles every other callable, is imported only for those: its import
    would cost every cold start.
    """
    code = getattr(function, "__code__", None)
    if code is None or hasattr(function, "__self__") or hasattr(function, "__wrapped__"):
        import inspect

        parameters = inspect.signature(function).parameters.values()
        positional = [
            p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        return len(positional) >= _MESSAGE_AND_CONVERSATION
    return bool(code.co_argcount >= _MESSAGE_AND_CONVERSATION)


_MESSAGE_AND_CONVERSATION = 2


class _Route(NamedTuple):
    test: Callable[..., bool]
    handler: Callable[..., Reply]
    needs_conversation_to_test: bool
    needs_conversation_to_answer: bool
    later: Later | None
    """How the webhook answers before the handler runs in the worker; None: it answers now."""

    @classmethod
    def of(cls, test: Test, handler: Handler | TimerHandler, options: Options) -> "_Route":
        later, acknowledgement = options.get("later", False), options.get("acknowledgement")
        if not isinstance(later, bool):
            raise TypeError("later is True or False: the text answered at once is acknowledgement=")
        if acknowledgement is not None and not later:
            raise ValueError("acknowledgement= is for a handler that runs later: add later=True")
        deferred = None
        if later:
            name = options.get("name") or handler.__name__
            deferred = Later(name, acknowledgement or None)
        return cls(test, handler, takes_conversation(test), takes_conversation(handler), deferred)

    def passes(self, message: IncomingMessage, talk: Conversation) -> bool:
        return self.test(message, talk) if self.needs_conversation_to_test else self.test(message)

    def answer(self, message: IncomingMessage | Timer, talk: Conversation | None = None) -> Reply:
        """The handler's reply (to a message, or a timer), in the time reply code has
        (`sms_webhook/deadlines.py`)."""
        with reply_code():
            if self.needs_conversation_to_answer:
                return self.handler(message, talk)
            return self.handler(message)


def _every_message(message: IncomingMessage) -> bool:
    return True


def _dropping_reply(handler: Callable[..., Reply], *arguments: Any) -> Reply:
    """The handler run, its reply dropped: nothing of it goes, nor into the history."""
    handler(*arguments)
    return None


class Router:
    """Handlers in the order they were registered, each with its test, and a fallback: the first
    handler whose test the message passes answers it.

    The sender's conversation is read only for a message whose routing needs it: a test, or the
    handler that answers, with a second parameter. Every other message costs no store call.
    """

    def __init__(self) -> None:
        self._routes: list[_Route] = []
        self._fallback: list[_Route] = []
        self._answering: list[_Route] = []
        """The routes in the order they are tried: the fallback last."""
        self._later: dict[str, _Route] = {}
        """The routes whose handlers run later, by the name the worker finds them by."""
        self._timers: dict[str, _Route] = {}
        """The timer handlers, by name."""
        self._consent: dict[bool, _Route] = {}
        """The handlers of an opt-out (True) and of an opt-in (False)."""

    def when(self, test: Test, **options: Unpack[Options]) -> Callable[[H], H]:
        """Register a handler for the messages that pass `test` (which may take the
        conversation too: `lambda message, conversation: "question" in conversation.state`).

        `later=True`: the handler runs in the worker, with minutes, and its reply is sent as
        texts; the webhook answers at once with `acknowledgement`, or nothing."""

        def register(handler: H) -> H:
            self._routes.append(self._made(test, handler, options))
            self._answering = [*self._routes, *self._fallback]
            return handler

        return register

    def keyword(self, *words: str, **options: Unpack[Options]) -> Callable[[H], H]:
        """Register a handler for messages whose first word is one of `words`."""
        alternatives = "|".join(keyword_pattern(word.strip()) for word in words)
        return self.pattern(rf"^(?:{alternatives})", **options)

    def button(self, *payloads: str, **options: Unpack[Options]) -> Callable[[H], H]:
        """Register a handler for a pressed WhatsApp quick-reply button whose payload is one of
        `payloads`, whole, in any case."""
        wanted = {payload.strip().casefold() for payload in payloads}

        def pressed(message: IncomingMessage) -> bool:
            button = message.button
            return button is not None and button.payload.strip().casefold() in wanted

        return self.when(pressed, **options)

    def pattern(self, regex: str, **options: Unpack[Options]) -> Callable[[H], H]:
        """Register a handler for messages in which `regex` is found."""
        compiled = re.compile(regex, re.IGNORECASE)
        return self.when(
            lambda message: compiled.search(message.body.strip()) is not None, **options
        )

    @overload
    def fallback(self, handler: H) -> H: ...

    @overload
    def fallback(self, handler: None = None, **options: Unpack[Options]) -> Callable[[H], H]: ...

    def fallback(self, handler: Any = None, **options: Unpack[Options]) -> Any:
        """Register the handler for every message no other handler takes: `@router.fallback`,
        or `@router.fallback(later=True, acknowledgement="One moment...")`."""

        def register(handler: Handler) -> Handler:
            self._fallback = [self._made(_every_message, handler, options)]
            self._answering = [*self._routes, *self._fallback]
            return handler

        return register if handler is None else register(handler)

    @overload
    def timer(self, handler: T) -> T: ...

    @overload
    def timer(self, handler: None = None, *, name: str | None = None) -> Callable[[T], T]: ...

    def timer(self, handler: Any = None, *, name: str | None = None) -> Any:
        """Register a timer handler: `@router.timer`, or `@router.timer(name="old_name")` to keep
        the timers set under a function's old name when you rename it."""

        def register(handler: TimerHandler) -> TimerHandler:
            called = name or handler.__name__
            if called in self._timers and self._timers[called].handler is not handler:
                raise ValueError(f"two timer handlers under one name: {called}: give one name=")
            self._timers[called] = _Route.of(_every_message, handler, {})
            return handler

        return register if handler is None else register(handler)

    def opt_out(self, handler: H) -> H:
        """Register the handler of a sender's opt-out (STOP...: `sms_webhook/consent.py`), which
        takes the message and maybe the conversation: a goodbye in its state, a CRM call. Its
        reply is dropped: Twilio answers an opt-out."""
        self._consent[True] = _Route.of(_every_message, handler, {})
        return handler

    def opt_in(self, handler: H) -> H:
        """Register the handler of a sender's opt-in (START...), as `opt_out`'s."""
        self._consent[False] = _Route.of(_every_message, handler, {})
        return handler

    def consent_changed(self, message: IncomingMessage, *, opted_out: bool) -> None:
        """Run the handler of the sender's opt-out (or opt-in), if one is registered."""
        route = self._consent.get(opted_out)
        if route is None:
            return
        if route.needs_conversation_to_answer:
            silent = route._replace(handler=partial(_dropping_reply, route.handler))
            self._in_conversation(message, [silent])
        else:
            route.answer(message)

    def timer_handlers(self) -> frozenset[str]:
        """The names of the timer handlers."""
        return frozenset(self._timers)

    def timer_reply(self, name: str, timer: Timer, waits_for: str | None) -> tuple[Text, ...]:
        """What the timer handler `name` answers when `timer` goes off, in the conversation when
        it takes one or `timer` is a question's deadline (`waits_for`: void unless the
        conversation still waits for that question)."""
        from sms_webhook import conversation_store  # a timer visits its conversation
        from sms_webhook.conversation import conversation_key
        from sms_webhook.conversation_store import Answered, Visit

        route = self._timers[name]
        if not route.needs_conversation_to_answer and waits_for is None:
            return reply_texts(route.answer(timer))
        visit = Visit(
            conversation_key(timer.number, timer.to),
            f"timer {timer.key}",
            timer.to,
            timer.number,
            waits_for=waits_for,
        )

        def answer(talk: Conversation) -> Answered:
            texts = reply_texts(route.answer(timer, talk))
            self._check_expected(talk)
            return Answered(texts, kept=route.needs_conversation_to_answer)

        return conversation_store.from_environment().visit(visit, answer)

    def reply(self, message: IncomingMessage) -> Reply | Later:
        """The reply of the first matching handler, or of the fallback (None without one); for
        a handler that runs later, how the webhook answers in the meantime."""
        routes = self._answering
        if self._timers and conversations_kept():  # a message in time voids a deadline
            return self._in_conversation(message, routes)
        for index, route in enumerate(routes):
            if route.needs_conversation_to_test:
                return self._in_conversation(message, routes[index:])
            if route.test(message):
                if route.later:
                    return route.later
                if route.needs_conversation_to_answer:
                    return self._in_conversation(message, routes[index:])
                return route.answer(message)
        return None

    def later_handlers(self) -> frozenset[str]:
        """The names of the handlers that run later."""
        return frozenset(self._later)

    def later_reply(self, name: str, message: IncomingMessage) -> tuple[Text, ...]:
        """What the handler registered under `name` with `later` answers `message`, in its
        conversation when it takes one: the worker's part of a later reply."""
        route = self._later[name]
        if not route.needs_conversation_to_answer:
            return reply_texts(route.answer(message))
        alone = route._replace(test=_every_message, needs_conversation_to_test=False, later=None)
        return cast(tuple[Text, ...], self._in_conversation(message, [alone]))  # none is later

    def _made(self, test: Test, handler: Handler, options: Options) -> _Route:
        route = _Route.of(test, handler, options)
        if route.later:
            name = route.later.handler
            if name in self._later and self._later[name].handler is not handler:
                raise ValueError(f"two handlers run later under one name: {name}: give one name=")
            self._later[name] = route
        return route

    def _check_expected(self, talk: Conversation) -> None:
        """A question's deadline names a timer handler of this router: said at once, rather than
        when it goes off."""
        otherwise = talk.expected.otherwise if talk.expected else None
        if otherwise is not None and otherwise not in self._timers:
            raise ValueError(f"otherwise={otherwise!r}: no @router.timer of that name")

    def _in_conversation(
        self, message: IncomingMessage, routes: list[_Route]
    ) -> tuple[Text, ...] | Later:
        from sms_webhook import conversation_store  # only once a route takes a conversation
        from sms_webhook.conversation_store import Answered

        deferred: list[Later] = []

        def answer(talk: Conversation) -> Answered:
            for route in routes:
                if route.passes(message, talk):
                    if route.later:  # the worker reads the conversation again when it runs
                        deferred.append(route.later)
                        return Answered((), kept=False, answered=False)
                    texts = reply_texts(route.answer(message, talk))
                    self._check_expected(talk)
                    return Answered(texts, kept=route.needs_conversation_to_answer)
            return Answered((), kept=False)

        texts = conversation_store.from_environment().turn(message, answer)
        return deferred[-1] if deferred else texts
