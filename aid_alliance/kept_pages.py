"""Whole pages kept in the process (issue 18): how a kept page is built and served.

aid_alliance.replayed_pages keeps the pages of the views whose inputs are their reads (the
family status page, the application and edit pages, the lists, the dashboard) and builds
and serves them through here. The layout (base.html, the header) and the page's template
are rendered once for what the key holds, not on every request.

What is the session's own is never kept: the forms' CSRF token (each request's own, masked
anew) and the layout's CSP nonce are random stand-ins in what is kept, put in on each
request. A request with messages waiting (a flash after a redirect) gets the page rendered
live, with them (`messages_waiting`).
"""

from __future__ import annotations

from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.middleware.csp import get_nonce
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.csp import CONTEXT_KEY as CSP_CONTEXT_KEY

from aid_alliance import kept

_TOKEN, _NONCE = kept.stand_in(), kept.stand_in()


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
