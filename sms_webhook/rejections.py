"""Rejected requests, logged and counted without letting a flood buy a log line each.

Each rejection is logged (`request rejected`, with the reason and the URL checked) and counted as
`SignatureRejections` by reason, in the same line. Past `BURST` lines in one second, a container
stops writing a line per rejection and only counts them; the next line it writes for that reason
(or, once the second is over, a `requests rejected while logging paused` line at the next
request) carries the count. So the metric stays exact, normal traffic logs every rejection, and a
flood of forged requests costs a signature check each, not a log line each.
"""

import time
from collections import Counter

from sms_webhook.proxy_event import HttpRequest
from sms_webhook.signature import Rejection
from sms_webhook.telemetry import emf, logger
from sms_webhook.urls import public_url_for_logs

BURST = 10
"""Full log lines per second and container."""


class RejectionLog:
    def __init__(self) -> None:
        self._second = 0.0
        self._lines = 0
        self._unlogged: Counter[Rejection] = Counter()

    def record(self, request: HttpRequest, rejection: Rejection) -> None:
        now = time.monotonic()
        if now - self._second >= 1:
            self._second, self._lines = now, 0
        if self._lines >= BURST:
            self._unlogged[rejection] += 1
            return
        self._lines += 1
        rejections = 1 + self._unlogged.pop(rejection, 0)
        logger.warning(
            "request rejected",
            extra={
                "reason": rejection.value,
                "url": public_url_for_logs(request),
                **({"rejections": rejections} if rejections > 1 else {}),
                **emf({"SignatureRejections": rejections}, rejection=rejection.name.lower()),
            },
        )

    def catch_up(self) -> None:
        """Log the rejections left uncounted once their second is over (cheap when none are)."""
        if not self._unlogged or time.monotonic() - self._second < 1:
            return
        for rejection, rejections in sorted(self._unlogged.items(), key=lambda item: item[0].name):
            logger.warning(
                "requests rejected while logging paused",
                extra={
                    "reason": rejection.value,
                    "rejections": rejections,
                    **emf({"SignatureRejections": rejections}, rejection=rejection.name.lower()),
                },
            )
        self._unlogged.clear()
