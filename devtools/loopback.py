"""Which requests `make run` answers when it checks signatures with the public test token: only
those made on this machine.

Anybody can sign with the public token in env.json, so a request that comes through a tunnel
(ngrok, cloudflared) is refused (403, `LOCAL_ONLY`) with a word on setting your own token.
"""

import ipaddress
from email.message import Message

PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP", "Via")
"""Headers a proxy or tunnel adds to what it forwards."""

LOCAL_ONLY = (
    "Forbidden: make run checks signatures with the public test token, so it answers only requests "
    "made on this machine (to 127.0.0.1 or localhost). To take requests through a tunnel, restart "
    "it with your own token: TWILIO_AUTH_TOKEN=<your auth token> make run"
)
"""What a request from elsewhere is told."""


def is_loopback(host: str) -> bool:
    """Whether a Host header (a name or an address, with or without a port) names this machine."""
    if host.startswith("["):
        name, bracket, _ = host[1:].partition("]")
        name = name if bracket else ""
    else:
        name = host.rpartition(":")[0] if ":" in host else host
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_local_request(headers: Message) -> bool:
    """Whether the request was made on this machine, not through a tunnel.

    A tunnel's client connects from loopback too, so the headers are all there is to tell by:
    every host the request names (`Host`, and each in `X-Forwarded-Host`, which a caller may set
    as it likes) must be loopback, and no proxy may have marked it as forwarded.
    """
    forwarded_hosts = headers.get_all("X-Forwarded-Host") or []
    hosts = [
        *(headers.get_all("Host") or []),
        *(host.strip() for value in forwarded_hosts for host in value.split(",")),
    ]
    forwarded = any(headers.get(name) is not None for name in PROXY_HEADERS)
    return bool(hosts) and all(map(is_loopback, hosts)) and not forwarded
