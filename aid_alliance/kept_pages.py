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

import re
import secrets

from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.middleware.csp import get_nonce
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH, get_token
from django.template.loader import render_to_string
from django.utils.csp import CONTEXT_KEY as CSP_CONTEXT_KEY

from aid_alliance import kept

_TOKEN, _NONCE = kept.stand_in(), kept.stand_in()
_STAND_INS = re.compile(f"({_TOKEN}|{_NONCE})")  # letters and digits only: nothing to escape


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


class Html:
    """A kept page as it is served: split once around its stand-ins, its text as bytes.
    Each serve joins the pieces with this request's token and nonce, where replacing them
    in the text and encoding its 16,000 characters again was a fifth of serving a kept
    page (issue 18)."""

    __slots__ = ("pieces",)

    def __init__(self, text: str):
        # Even places: the page's bytes between stand-ins; odd places: a stand-in.
        self.pieces = tuple(
            piece if place % 2 else piece.encode()
            for place, piece in enumerate(_STAND_INS.split(text))
        )


def serve(request, html: Html, *, status=200) -> HttpResponse:
    """A kept page for this request: its own CSRF token and CSP nonce, each made only when
    the page holds it (as the page rendered live asks for them)."""
    pieces = html.pieces
    if len(pieces) == 1:
        return HttpResponse(pieces[0], status=status)
    made: dict[str, bytes] = {}
    joined = []
    for place, piece in enumerate(pieces):
        if not place % 2:
            joined.append(piece)
            continue
        if piece not in made:
            made[piece] = _put_in(request, piece)
        joined.append(made[piece])
    return HttpResponse(b"".join(joined), status=status)


def _put_in(request, stand_in: str) -> bytes:
    if stand_in == _TOKEN:
        return csrf_token(request).encode()
    nonce = get_nonce(request)  # str() makes it, so the middleware puts it in the header too
    return stand_in.encode() if nonce is None else str(nonce).encode()


def csrf_token(request) -> str:
    """Django's get_token, with the mask drawn from one read of the system's randomness.

    A form's token is the session's CSRF secret masked anew for each response (Django's
    BREACH counter-measure: _mask_cipher_secret). Django draws the mask's 32 characters one
    by one, each from the system's random source (32 reads of it), 70 µs of each kept page
    with a form (issue 18). Here they come from one read, each byte below 248 (4 × 62, so
    every character is as likely) taken modulo the 62 characters, and the secret is masked
    as Django masks it; Django's middleware checks the token as it checks its own. A
    request without a secret yet gets Django's own (it makes the secret and its cookie)."""
    secret = request.META.get("CSRF_COOKIE")
    if secret is None or len(secret) != CSRF_SECRET_LENGTH or not set(secret) <= _PLACE.keys():
        return get_token(request)
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True  # as get_token: the cookie's expiry renewed
    mask: list[int] = []
    while len(mask) < CSRF_SECRET_LENGTH:
        mask.extend(byte % _BASE for byte in secrets.token_bytes(48) if byte < _UNBIASED)
    mask = mask[:CSRF_SECRET_LENGTH]
    cipher = (
        CSRF_ALLOWED_CHARS[(_PLACE[char] + offset) % _BASE]
        for char, offset in zip(secret, mask, strict=True)
    )
    return "".join(CSRF_ALLOWED_CHARS[offset] for offset in mask) + "".join(cipher)


_BASE = len(CSRF_ALLOWED_CHARS)
_PLACE = {char: place for place, char in enumerate(CSRF_ALLOWED_CHARS)}
_UNBIASED = 256 - 256 % _BASE
