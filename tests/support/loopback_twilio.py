"""Twilio's API as twilio's own HTTP client reaches it over real sockets: a server on loopback
that does what a test says with each connection."""

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

from twilio.http.http_client import TwilioHttpClient


class LoopbackTwilio(TwilioHttpClient):  # type: ignore[misc]  # twilio ships no types
    """twilio's own HTTP client, with requests and real sockets, reaching a server on loopback
    instead of Twilio's API."""

    def __init__(self, port: int, scheme: str = "http") -> None:
        super().__init__(timeout=0.5)
        self.origin = f"{scheme}://127.0.0.1:{port}"

    def request(self, method: str, url: str, *arguments: Any, **options: Any) -> Any:
        url = url.replace("https://api.twilio.com", self.origin)
        return super().request(method, url, *arguments, **options)


@contextlib.contextmanager
def loopback_server(on_connection: Callable[[socket.socket], object]) -> Iterator[int]:
    """A server on loopback that hands each connection to `on_connection`: its port."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:  # closed: the test is over
                return
            on_connection(connection)

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
