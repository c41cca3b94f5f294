"""Django's Redis cache, with one redis-py client per connection pool instead of one per
call (issue 18).

Django's RedisCacheClient makes a new redis.Redis for every cache call, and each one
builds its table of some 340 response callbacks: about 0.3 ms of Python a call, more
than the round trip to Redis. The clients share their pool either way (a client is only
the pool and that table, safe to share between threads), so keeping one per pool changes
nothing but the cost.
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class _ReusedClient(RedisCacheClient):
    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_clients", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ReusedClientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusedClient
