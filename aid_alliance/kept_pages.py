"""Whole pages kept in the process under a digest of everything they are made of (issue 18).

`render()` is `django.shortcuts.render` for a page whose every input the view names: the
data it shows (`inputs`, the caller's to get complete, as for aid_alliance.kept) and what
this module adds itself, namely the template, the language, time zone, URL configuration
and script prefix, the page's own address (the language switch's way back, a pager's
links) and the reader as the layout's header reads them (nav_tags.reader). The layout
(base.html, the header) and the page's template are then rendered once for these inputs,
not on every request: on the family status page they were most of the CPU left.
(aid_alliance.replayed_pages keeps pages too, for the views whose inputs are their reads,
and uses `build` and `serve` from here.)

What is the session's own is never kept: the forms' CSRF token (each request's own, masked
anew) and the layout's CSP nonce are random stand-ins in what is kept, put in on each
request. A request with messages waiting (a flash after a redirect) gets the page rendered
live, with them.
"""

from __future__ import annotations

from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.middleware.csp import get_nonce
from django.middleware.csrf import get_token
from django.shortcuts import render as render_live
from django.template.loader import render_to_string
from django.utils.csp import CONTEXT_KEY as CSP_CONTEXT_KEY

from aid_alliance import kept
from aid_alliance.context_processors import navigation
from aid_alliance.kept import Kept
from aid_alliance.nav_tags import reader

PAGES_KEPT = Kept(2048)  # per process; the least recently used go first
_TOKEN, _NONCE = kept.stand_in(), kept.stand_in()


def render(request, template_name: str, context: dict, *, inputs, status=200):
    if messages_waiting(request):
        return render_live(request, template_name, context, status=status)
    key = kept.digest(
        (
            template_name,
            inputs,
            kept.surroundings(),
            request.get_full_path(),
            reader(request.user),
            sorted(navigation(request).items()),
            get_nonce(request) is None,
        )
    )
    html = PAGES_KEPT.get_or_build(key, lambda: build(request, template_name, context))
    return serve(request, html, status=status)


def messages_waiting(request) -> bool:
    """Whether a message waits to be shown (a flash after a redirect): such a page is
    rendered live, with it. len() reads them without marking them shown."""
    return bool(len(get_messages(request)))


def build(request, template_name: str, context: dict) -> str:
    """The page as it is kept: the CSRF token and the CSP nonce are stand-ins, no message
    is shown."""
    page = {**context, "csrf_token": _TOKEN, "messages": ()}
    if get_nonce(request) is not None:  # the layout's script tag carries it (django-htmx)
        page[CSP_CONTEXT_KEY] = _NONCE
    return str(render_to_string(template_name, page, request=request))


def serve(request, html: str, *, status=200) -> HttpResponse:
    """A kept page for this request: its own CSRF token and CSP nonce."""
    html = html.replace(_TOKEN, get_token(request))
    nonce = get_nonce(request)
    if nonce is not None:  # str() makes it, so the middleware puts it in the header too
        html = html.replace(_NONCE, str(nonce))
    return HttpResponse(html, status=status)
