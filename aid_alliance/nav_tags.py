"""The layout's tags (issue 18). {% fixed_url 'name' %}: {% url 'name' %} for a link without
arguments, reversed once per process instead of on every page. {% site_header %}: the skip
link and the header, kept per reader and page (below).

The layout (templates/base.html) links to about fifteen such pages on every page it
frames: with {% url %} a third of its rendering. The address depends only on the URL
configuration and the script prefix, so these are the key.
"""

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from aid_alliance import kept
from aid_alliance.context_processors import NAVIGATION
from aid_alliance.kept import Kept

register = template.Library()
_reversed: dict[tuple, str] = {}


@register.simple_tag
def fixed_url(name: str) -> str:
    key = (settings.ROOT_URLCONF, get_urlconf(), get_script_prefix(), name)
    url = _reversed.get(key)
    if url is None:
        url = _reversed[key] = reverse(name)
    return url


# The layout's skip link and header (templates/_site_header.html): the navigation of the
# reader's role, the language switch back to this page, the log-out form. Rendered once per
# process for the same inputs, kept under a digest of all of them (aid_alliance.kept): the
# language, the URL configuration and script prefix, and every field of the reader that the
# header reads. The page's address (the switch's way back) and the two forms' CSRF token are
# put in on each request, so a reader's pages share one entry. About 0.5 ms of every page
# (issue 18).
HEADERS_KEPT = Kept(1024)
# Stand-ins in what is kept, random per process: no reader's data can hold them.
_TOKEN, _NEXT = kept.stand_in(), kept.stand_in()


def reader(user) -> tuple | None:
    """Every field of the reader that the header reads (with the navigation flags, which
    come from the role): part of the key of anything kept that holds the header."""
    if not user.is_authenticated:
        return None
    return (
        user.pk,
        user.get_username(),
        user.role,
        user.is_superuser,
        user.is_staff,
        user.is_member_staff and user.organization.short_name,
    )


@register.simple_tag(takes_context=True)
def site_header(context) -> str:
    request, user = context.get("request"), context.get("user")
    navigation = {name: context.get(name) for name in NAVIGATION}
    token = str(context.get("csrf_token") or "")
    values = {"user": user, **navigation}
    if request is None or user is None or token in ("", "NOTPROVIDED"):  # noqa: S105
        # Rendered outside a request (or without CSRF): as the layout always did, not kept.
        next_path = request.get_full_path() if request is not None else ""
        live = {**values, "csrf_token": token, "next_path": next_path}
        return render_to_string("_site_header.html", live).strip()
    inputs = (
        kept.surroundings(),
        reader(user),
        sorted(navigation.items()),
    )

    def render() -> str:
        kept_values = {**values, "csrf_token": _TOKEN, "next_path": _NEXT}
        return render_to_string("_site_header.html", kept_values).strip()

    html = HEADERS_KEPT.get_or_build(kept.digest(inputs), render)
    # The address escaped as the template escapes a value; put in last.
    html = html.replace(_TOKEN, token).replace(_NEXT, escape(request.get_full_path()))
    return mark_safe(html)  # noqa: S308 - our template, a token of [A-Za-z0-9], an escaped path
