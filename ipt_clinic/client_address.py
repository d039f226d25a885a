"""Where a request came from: the one answer every throttle, the login lock-out, the portal
and the audit trail's "from where" use.

Behind ``TRUSTED_PROXY_COUNT`` reverse proxies the socket's address (REMOTE_ADDR) is the
nearest proxy's, the same for every client. Each proxy appends the address it was connected
from to X-Forwarded-For, so the client is the entry that many places from the right: the
entries further left were written by the client itself and prove nothing. A chain shorter
than the proxies configured did not come through all of them, and an entry that is not an
address was not written by a proxy: REMOTE_ADDR then, which no client can choose.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest

# The unit a throttle counts for IPv6: one subscriber is normally given a whole /64 and can
# use any address in it, so counting single addresses would give them 2**64 budgets.
IPV6_THROTTLE_PREFIX = 64


def _address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _client(request: HttpRequest) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        chain = [part.strip() for part in forwarded.split(",")]
        if len(chain) >= hops:
            address = _address(chain[-hops])
            if address is not None:
                return address
    return _address(request.META.get("REMOTE_ADDR"))


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address (see the module's docstring), or None when there is none."""
    address = _client(request)
    return str(address) if address is not None else None


def client_throttle_key(request: HttpRequest) -> str:
    """What a per-address throttle counts: the client's IPv4 address, or its IPv6 /64."""
    address = _client(request)
    if address is None:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        network = ipaddress.ip_network(f"{address}/{IPV6_THROTTLE_PREFIX}", strict=False)
        return str(network)
    return str(address)
