"""{% load kept_i18n %} is aid_alliance.i18n_tags: a {% translate %} of a fixed text kept per
language and escaping, everything else Django's own (issue 18)."""

import pytest
from django.template import Context, Engine, engines
from django.templatetags.i18n import TranslateNode
from django.utils import translation

from aid_alliance.i18n_tags import KeptTranslateNode

# Django's own library, for comparison: the same engine settings without our "i18n" label.
DJANGO_OWN = Engine(libraries={"i18n": "django.templatetags.i18n"})

TEXTS = (
    '{% translate "Log out" %}',
    '{% translate "Children\'s Serious-Illness Aid Alliance" %}',  # an apostrophe to escape
    '{% translate "Period" context "report" %}',
    '{% translate "Show" noop %}',
    '{% translate "100%% sure" %}',  # a doubled percent sign, restored
    "{% translate 'Reports' %}",
)


def _render(engine_template, language, autoescape=True, **values):
    with translation.override(language):
        if isinstance(engine_template, str):
            return engines["django"].from_string(engine_template).render(values)
        return engine_template.render(Context(values, autoescape=autoescape))


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("autoescape", [True, False])
def test_fixed_texts_render_as_djangos_own_in_each_language_in_turn(text, autoescape):
    kept = engines["django"].engine.from_string("{% load kept_i18n %}" + text)
    theirs = DJANGO_OWN.from_string("{% load i18n %}" + text)
    # Alternating languages on the same compiled node: a value kept for one language would
    # show in the other.
    for language in ("zh-hans", "en", "zh-hans", "en"):
        assert _render(kept, language, autoescape) == _render(theirs, language, autoescape)


def test_the_project_engine_uses_the_kept_node_and_the_text_changes_with_the_language():
    template = engines["django"].engine.from_string('{% load kept_i18n %}{% translate "Log out" %}')
    assert isinstance(template.nodelist[-1], KeptTranslateNode)
    assert _render(template, "en") == "Log out"
    assert _render(template, "zh-hans") == "退出登录"
    assert _render(template, "en") == "Log out"
    assert set(template.nodelist[-1].kept) == {("en", True), ("zh-hans", True)}


@pytest.mark.parametrize(
    "source",
    [
        "{% translate word %}",
        "{% translate word|lower %}",
        '{% translate "Log out" as text %}{{ text }}{{ word }}',
    ],
)
def test_variables_filters_and_as_stay_live(source):
    template = engines["django"].engine.from_string("{% load kept_i18n %}" + source)
    node = next(n for n in template.nodelist if isinstance(n, TranslateNode))
    assert node.kept is None
    theirs = DJANGO_OWN.from_string("{% load i18n %}" + source)
    # Each word and language in turn on the same node: as Django's own node renders them.
    for language, word in (("zh-hans", "Reports"), ("en", "Period"), ("zh-hans", "Period")):
        ours = _render(template, language, word=word)
        assert ours == _render(theirs, language, word=word), (language, word)
