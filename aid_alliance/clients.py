"""Who is asking: the client address that per-address limits count (family status, logins)."""

import ipaddress

from django.conf import settings


def client_address(request) -> str:
    """The address a per-client limit counts. With TRUSTED_PROXY_COUNT = n, the n-th
    entry of X-Forwarded-For from the right (each trusted proxy appends the address it
    received from; anything further left was written by the client and is ignored)."""
    address = request.META.get("REMOTE_ADDR", "")
    hops = settings.TRUSTED_PROXY_COUNT
    if hops:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        forwarded = [part.strip() for part in forwarded if part.strip()]
        if len(forwarded) >= hops:
            address = forwarded[-hops]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:100]
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        # One IPv6 subscriber usually holds a whole /64: count the network, not the address.
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
