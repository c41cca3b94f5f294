"""Whole pages kept in the process under a digest of everything they are made of (issue 18).

`render()` is `django.shortcuts.render` for a page whose every input the view names: the
data it shows (`inputs`, the caller's to get complete, as for aid_alliance.kept) and what
this module adds itself, namely the template, the language, time zone, URL configuration
and script prefix, the page's own address (the language switch's way back, a pager's
links) and the reader as the layout's header reads them (nav_tags.reader). The layout
(base.html, the header) and the page's template are then rendered once for these inputs,
not on every request: on the family status page, the dashboard and the inbox they were
most of the CPU left.

What is the session's own, or moves more often than the page, is never kept: the forms'
CSRF token (each request's own, masked anew), the layout's CSP nonce and the parts the
caller renders on every request (`put_in`: name -> HTML) are random stand-ins in what is
kept, put in on each request, the token and the nonce first and the parts last, so nothing
is looked for in them. A request with messages waiting (a flash after a redirect) gets the
page rendered live, with them.
"""

from __future__ import annotations

import threading

from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.middleware.csp import get_nonce
from django.middleware.csrf import get_token
from django.shortcuts import render as render_live
from django.template.loader import render_to_string
from django.utils.csp import CONTEXT_KEY as CSP_CONTEXT_KEY
from django.utils.safestring import mark_safe

from aid_alliance import kept
from aid_alliance.context_processors import navigation
from aid_alliance.kept import Kept
from aid_alliance.nav_tags import reader

PAGES_KEPT = Kept(2048)  # per process; the least recently used go first
_TOKEN, _NONCE = kept.stand_in(), kept.stand_in()
_STAND_INS: dict[str, str] = {}
_lock = threading.Lock()


def _stand_in(name: str) -> str:
    with _lock:
        return _STAND_INS.setdefault(name, kept.stand_in())


def render(request, template_name: str, context: dict, *, inputs, put_in=None, status=200):
    put_in = {name: mark_safe(value) for name, value in (put_in or {}).items()}  # noqa: S308 - the caller's HTML
    if messages_waiting(request):
        return render_live(request, template_name, {**context, **put_in}, status=status)
    stand_ins = {name: _stand_in(name) for name in put_in}
    key = kept.digest(
        (
            template_name,
            inputs,
            sorted(put_in),
            kept.surroundings(),
            request.get_full_path(),
            reader(request.user),
            sorted(navigation(request).items()),
            get_nonce(request) is None,
        )
    )
    html = PAGES_KEPT.get_or_build(
        key, lambda: build(request, template_name, context, stand_ins=stand_ins)
    )
    return serve(request, html, put_in=put_in, stand_ins=stand_ins, status=status)


def messages_waiting(request) -> bool:
    """Whether a message waits to be shown (a flash after a redirect): such a page is
    rendered live, with it. len() reads them without marking them shown."""
    return bool(len(get_messages(request)))


def build(request, template_name: str, context: dict, *, stand_ins=None) -> str:
    """The page as it is kept: the CSRF token, the CSP nonce and each part put in are
    stand-ins (`stand_ins`: name -> stand-in), no message is shown."""
    values = {name: mark_safe(value) for name, value in (stand_ins or {}).items()}  # noqa: S308 - ours
    page = {**context, **values, "csrf_token": _TOKEN, "messages": ()}
    if get_nonce(request) is not None:  # the layout's script tag carries it (django-htmx)
        page[CSP_CONTEXT_KEY] = _NONCE
    return str(render_to_string(template_name, page, request=request))


def serve(request, html: str, *, put_in=None, stand_ins=None, status=200) -> HttpResponse:
    """A kept page for this request: its own CSRF token and CSP nonce, then the parts."""
    html = html.replace(_TOKEN, get_token(request))
    nonce = get_nonce(request)
    if nonce is not None:  # str() makes it, so the middleware puts it in the header too
        html = html.replace(_NONCE, str(nonce))
    for name, value in (put_in or {}).items():
        html = html.replace(stand_ins[name], str(value))
    return HttpResponse(html, status=status)
