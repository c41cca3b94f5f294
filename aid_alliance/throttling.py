"""API rate limits (429): one counter per request, in Django's cache (the database's, so that
the limits hold across app servers)."""

from rest_framework.throttling import SimpleRateThrottle


class ClientRateThrottle(SimpleRateThrottle):
    """The user's counter (rate "user") or, without an account, the client address's (rate
    "anon"). DRF's AnonRateThrottle and UserRateThrottle together would count an anonymous
    request twice, each count a read and a write of the cache."""

    scope = "anon"  # until the request is known

    def allow_request(self, request, view):
        self.scope = "user" if request.user and request.user.is_authenticated else "anon"
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        if self.scope == "user":
            ident = request.user.pk
        else:
            # REMOTE_ADDR, or X-Forwarded-For behind TRUSTED_PROXY_COUNT proxies (NUM_PROXIES).
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
