"""{% load kept_i18n %}: Django's i18n, {% translate "a literal" %} kept per language (issue 18).

The templates write dozens of {% translate %} of fixed texts a page (the layout alone some
twenty), more in loops. Each one, on every page, looked the active translation up through
asgiref's locals, translated, escaped and marked the text again (CPU ms per request, 8
alternating pairs in one process: application 20.0 -> 18.8, search 8.5 -> 7.8, inbox
11.4 -> 11.0, dashboard 5.1 -> 5.0). A literal's output depends on nothing but the active
language and whether the context escapes, so the node keeps it under these two.

The project's templates load it as {% load kept_i18n %} (TEMPLATES' "libraries"): Django's
i18n library, its tags and filters, with this {% translate %}. `makemessages` reads the
tags whatever the load, so the .po files are unchanged (tests/test_translations.py). Under
Django's own label "i18n" it would clash (check templates.W003). A {% translate %} of a
variable, with filters, or "as" a variable is Django's own. The catalogues are read once
per process, so nothing kept can go stale.
"""

from django import template
from django.template.base import Variable
from django.templatetags import i18n
from django.utils.translation import get_language

register = template.Library()
register.tags.update(i18n.register.tags)
register.filters.update(i18n.register.filters)


def _literal(expression) -> bool:
    return (
        not expression.filters
        and isinstance(expression.var, Variable)
        and expression.var.literal is not None
    )


class KeptTranslateNode(i18n.TranslateNode):
    def __init__(self, filter_expression, noop, asvar=None, message_context=None):
        super().__init__(filter_expression, noop, asvar, message_context)
        self.kept = (
            {}
            if asvar is None
            and _literal(self.filter_expression)
            and (
                message_context is None
                or (not message_context.filters and isinstance(message_context.var, str))
            )
            else None
        )

    def render(self, context):
        if self.kept is None:
            return super().render(context)
        key = (get_language(), context.autoescape)
        try:
            return self.kept[key]
        except KeyError:
            value = self.kept[key] = super().render(context)
            return value


@register.tag("translate")
@register.tag("trans")
def do_translate(parser, token):
    node = i18n.do_translate(parser, token)
    return KeptTranslateNode(node.filter_expression, node.noop, node.asvar, node.message_context)
