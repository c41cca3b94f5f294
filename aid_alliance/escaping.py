"""HTML escaping for the markup the project writes in Python (issue 18: the form renderer in
aid_alliance.widgets, the list rows in cases.templatetags.list_rows)."""

import html


def escape(value) -> str:
    """What django.utils.html.conditional_escape gives, as a plain str: safe strings (and
    anything with __html__) as they are, anything else, lazy texts included, through
    html.escape, as Django's escape does. Without conditional_escape's lazy wrapper and
    SafeString result, which were about a quarter of a page of rows' time."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))
