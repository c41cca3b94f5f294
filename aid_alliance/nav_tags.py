"""{% fixed_url 'name' %}: {% url 'name' %} for a link without arguments, reversed once per
process instead of on every page (issue 18).

The layout (templates/base.html) links to about fifteen such pages on every page it
frames: with {% url %} a third of its rendering. The address depends only on the URL
configuration and the script prefix, so these are the key.
"""

from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

register = template.Library()
_reversed: dict[tuple, str] = {}


@register.simple_tag
def fixed_url(name: str) -> str:
    key = (settings.ROOT_URLCONF, get_urlconf(), get_script_prefix(), name)
    url = _reversed.get(key)
    if url is None:
        url = _reversed[key] = reverse(name)
    return url
