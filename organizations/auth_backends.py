"""The authentication backend: Django's ModelBackend, with the user's member and the id of
their confirmed second-factor device read in the same query as the user (issue 18).

Every staff page reads `request.user.organization` (the navigation, the access rules in
cases.access, the member's inbox) and asks whether the session gave its code
(organizations.second_factor.VerifiedDeviceMiddleware): with the plain backend and
django-otp that is three queries on each request, here one.

With AUTH_USER_CACHE (on when the cache is Redis) that one query is read from the cache,
exactly: each cached user carries the generations it was read under (the user's own, and
one for every member), each read compares them with the current ones in the same
round trip, and every save or delete of a user, a member or a device sets a new
generation (at once and again at the commit). A deactivated user, a changed role or
member, a new password or a removed device therefore count from the next request. A
generation is read before the database, so a read racing a change is never kept as new.
"""

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db.models import OuterRef, Subquery
from django_otp.plugins.otp_totp.models import TOTPDevice

from aid_alliance import generations
from organizations.models import User

USER_KEY = "auth-user:{}"
USER_GENERATION_KEY = "auth-user-generation:{}"
MEMBERS_GENERATION_KEY = "auth-user-generation:members"
# A cached user is dropped after this long in any case (a change made outside Django's
# models, in SQL, counts after it at the latest).
USER_CACHE_SECONDS = 15 * 60


def load_user(user_id) -> User:
    """The user with their member and their confirmed device's id, in one query."""
    device = (
        TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True).order_by("pk").values("pk")
    )
    return (
        User._default_manager.select_related("organization")
        .annotate(confirmed_device_pk=Subquery(device[:1]))
        .get(pk=user_id)
    )


def keys_of(user_id) -> list[str]:
    """The cache keys of a user's copy: the copy, its generation, the members'."""
    return [USER_KEY.format(user_id), USER_GENERATION_KEY.format(user_id), MEMBERS_GENERATION_KEY]


def keys_with_the_session(user_id) -> list[str]:
    """Read with the session (aid_alliance.session_store), for a user signed in."""
    return keys_of(user_id) if user_id is not None and settings.AUTH_USER_CACHE else []


def cached_user(user_id) -> User:
    """load_user, from the cache when the copy there is of the current generations."""
    user_key = USER_KEY.format(user_id)
    keys = keys_of(user_id)
    found = generations.get_many(keys)  # read with the session, mostly
    generations.forget_read_with_the_session(user_key)  # a copy of its own for each reader
    current = (found.get(keys[1]), found.get(keys[2]))
    entry = found.get(user_key)
    if entry is not None and None not in current and entry[0] == current:
        return entry[1]
    if None in current:
        current = generations.current(keys[1], keys[2])
    user = load_user(user_id)  # after the generations were read: see the module's note
    cache.set(user_key, (current, user), USER_CACHE_SECONDS)
    return user


def forget(keys: list[str]) -> None:
    """Make cached users of these generations stale: now, and again when the change commits
    (a request that read the old row before the commit is then not kept either)."""
    if settings.AUTH_USER_CACHE:
        generations.renew_now_and_at_commit(*keys)


def user_changed(sender, instance, **kwargs) -> None:
    """post_save/post_delete of a user or of a second-factor device."""
    user_id = instance.pk if isinstance(instance, User) else instance.user_id
    forget([USER_GENERATION_KEY.format(user_id)])


def member_changed(sender, instance=None, **kwargs) -> None:
    """post_save/post_delete of a member (and organizations.services after an update()):
    every user's copy carries their member."""
    forget([MEMBERS_GENERATION_KEY])


class UserWithMemberBackend(ModelBackend):
    def get_user(self, user_id):
        try:
            user = cached_user(user_id) if settings.AUTH_USER_CACHE else load_user(user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
