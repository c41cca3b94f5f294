"""Query filters of the API's lists. They parse and check the query string; where the browser
already filters the same list (the staff list, the member inbox), the browser's own function
does the filtering, so that a page and its API never disagree about what matches."""

import django_filters
from django import forms

from organizations import regions

# The largest id the databases store (a bigint): a larger one in a filter is refused with a
# 400 instead of reaching the database driver.
MAX_ID = 2**63 - 1


class WholeNumberFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class IdFilter(WholeNumberFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=MAX_ID, **kwargs)


def provinces():
    return [(region.code[:2], region.name) for region in regions.provinces()]
