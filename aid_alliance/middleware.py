from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _


class ChineseFirstLocaleMiddleware:
    """Activate the language chosen with the language switch, else Simplified Chinese.

    Django's LocaleMiddleware would follow the browser's Accept-Language, so a family on
    an English-language phone would land on an English page. The alliance's UI is Chinese
    first: only an explicit choice (the language cookie set by /i18n/setlang/) changes it.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response


class IdleSessionMiddleware:
    """Sign staff out after SESSION_IDLE_SECONDS without a request (§5: children's data on
    an unattended screen). The stamp is refreshed at most once a minute, so a busy page
    does not write its session on every request."""

    REFRESH_SECONDS = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            from organizations.accounts import LAST_SEEN

            now = int(timezone.now().timestamp())
            seen = request.session.get(LAST_SEEN)
            if seen is None or now - seen > settings.SESSION_IDLE_SECONDS:
                logout(request)
                if seen is not None:
                    messages.info(request, _("You were signed out after a time without activity."))
                    return redirect_to_login(request.get_full_path())
            elif now - seen > self.REFRESH_SECONDS:
                request.session[LAST_SEEN] = now
        return self.get_response(request)
