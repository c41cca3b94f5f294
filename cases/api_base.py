"""What every endpoint of the case API shares (issue 8): one body for every refusal, the
services' refusals mapped to HTTP, the permissions of standard.md §5, the request's language,
the access record.

Refusals share one body (cases.serializers.ErrorSerializer): 400 bad input, 401 no
credentials, 403 not allowed, 404 not found (or not yours to see), 409 refused by the
state of things (e.g. a closed review, the funding gap), 429 too many requests.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

from django import forms as django_forms
from django.core.exceptions import RequestDataTooBig
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.views import exception_handler

from cases import access, audit
from cases.errors import ApplicationError, DuplicateApplication, InvalidInput, NotAllowed
from cases.fields import as_querydict
from cases.serializers import ErrorSerializer


def error(message, *, section=None, field=None, code=None) -> dict:
    """One entry of a refusal's `errors` (cases.serializers.FieldErrorSerializer)."""
    return {"section": section, "field": field, "code": code, "message": str(message)}


# --- JSON bodies as the browser's form data -------------------------------------------------


def scalar(value) -> str | None:
    """A JSON value as the text a form field receives; None when it is not one value."""
    if isinstance(value, bool) or isinstance(value, list | dict):
        return None
    if isinstance(value, float):
        return str(Decimal(str(value)))
    return "" if value is None else str(value)


def form_data(body: dict, form_class):
    """A JSON body as the form data the browser's form would post; each field one value."""
    problems = []
    values = {}
    for name, value in body.items():
        field = form_class.base_fields.get(name)
        if field is None:
            problems.append(error(_("Unknown field."), field=name))
        elif isinstance(field, django_forms.MultipleChoiceField):
            # A list of choices (e.g. the papers of an information request), each one value.
            items = value if isinstance(value, list) else [value]
            if any(scalar(item) is None for item in items):
                problems.append(error(_("Give a list of texts."), field=name))
            else:
                values[name] = [scalar(item) for item in items]
        elif scalar(value) is None:
            problems.append(error(_("Give a single text or number value."), field=name))
        else:
            values[name] = scalar(value)
    if problems:
        raise Invalid(problems)
    return as_querydict(values)


# --- refusals ---------------------------------------------------------------------------------


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("The request conflicts with the current state.")
    default_code = "conflict"

    def __init__(self, detail=None, *, errors=(), code=None, match=None):
        super().__init__(detail)
        self.errors = list(errors)
        self.refusal_code, self.match = code, match


class TooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The request body is too large.")
    default_code = "too_large"


class Invalid(exceptions.APIException):
    """400 with the field errors of a form or of a section."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(self, errors: list[dict]):
        super().__init__(errors[0]["message"] if errors else None)
        self.errors = errors


def form_invalid(form, *, section=None) -> Invalid:
    return Invalid(
        [
            error(message, section=section, field=None if name == "__all__" else name)
            for name, messages in form.errors.items()
            for message in messages
        ]
    )


def _flatten(data, field=None) -> list[dict]:
    """DRF's nested error data (field -> messages) as the API's list of field errors."""
    if isinstance(data, dict):
        found = []
        for key, value in data.items():
            name = field if key in ("non_field_errors", "detail") else key
            if field is not None and name != field:
                name = f"{field}.{key}"
            found += _flatten(value, name)
        return found
    if isinstance(data, list):
        return [item for value in data for item in _flatten(value, field)]
    return [error(data, field=field)]


def api_exception_handler(exc, context):
    """DRF's handler, with the services' refusals mapped to HTTP and one body for all."""
    if isinstance(exc, NotAllowed):
        exc = exceptions.PermissionDenied(str(exc))
    elif isinstance(exc, InvalidInput):
        exc = Invalid([error(exc, field=exc.field)])
    elif isinstance(exc, RequestDataTooBig):  # beyond DATA_UPLOAD_MAX_MEMORY_SIZE
        exc = TooLarge()
    elif isinstance(exc, DuplicateApplication):
        exc = Conflict(
            str(exc),
            errors=[error(exc, section="A", field="id_number", code="A03")],
            code=exc.code,
            match=exc.match,
        )
    elif isinstance(exc, ApplicationError):
        exc = Conflict(str(exc))
    response = exception_handler(exc, context)
    if response is None:
        return None  # not an API refusal: a 500, logged
    data, errors = response.data, getattr(exc, "errors", None)
    if errors is None and not (isinstance(data, dict) and "detail" in data):
        # A ValidationError (a serializer's or a filter's): field -> messages.
        errors = _flatten(data)
        detail = errors[0]["message"] if errors else str(exceptions.ValidationError.default_detail)
    else:
        detail = str(data["detail"])
    response.data = {"detail": detail, "errors": errors or []}
    if getattr(exc, "refusal_code", None):
        from cases.serializers import PossibleMatchSerializer

        response.data["code"] = exc.refusal_code
        response.data["match"] = PossibleMatchSerializer(exc.match).data
    return response


class IsStaff(BasePermission):
    """§5: member staff and the secretariat (administrators work through the admin)."""

    def has_permission(self, request, view):
        return access.is_staff(request.user)


class MemberStaffWrites(BasePermission):
    """§5: the secretariat reads all; entering and deciding is for a member's staff."""

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or getattr(request.user, "is_member_staff", False)


# Django's own message, written here so that the project's catalogue holds (and improves)
# its translation: every form field says it too (ProhibitNullCharactersValidator).
NULL_CHARACTERS = gettext_lazy("Null characters are not allowed.")
LONE_SURROGATES = gettext_lazy(
    "The text holds an invalid character (an unpaired UTF-16 surrogate): send UTF-8 text."
)
_SURROGATE = re.compile("[\ud800-\udfff]")


def null_refused() -> exceptions.ParseError:
    return exceptions.ParseError(str(NULL_CHARACTERS))


def _has_null_character(value) -> bool:
    # A stack, not recursion: the parser bounds a body's nesting (aid_alliance.parsers),
    # but nothing here should depend on that to stay up.
    stack = [value]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
    return False


# What every endpoint of the case API shares, mixed into DRF's views (a comment, not a
# docstring: the schema would show it as every operation's description).
class CasesApi:
    permission_classes = [IsAuthenticated, IsStaff, MemberStaffWrites]

    def get_exception_handler(self):
        return api_exception_handler

    def initial(self, request, *args, **kwargs):
        # Member systems say their language with Accept-Language; the language cookie
        # (the site's switch) wins for the browser; Chinese otherwise, as on every page.
        language = translation.get_language_from_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        super().initial(request, *args, **kwargs)
        # PostgreSQL cannot store a NUL character: refuse it before it reaches a query.
        if _has_null_character(kwargs) or _has_null_character(dict(request.query_params.lists())):
            raise null_refused()

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Language"] = translation.get_language()
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        return response

    def body(self, request) -> dict:
        """The JSON (or form) body as a dict of its fields."""
        data = request.data
        if hasattr(data, "dict"):  # a QueryDict
            data = {key: data.get(key) for key in data}
        if not isinstance(data, dict):
            raise Invalid([error(_("Send a JSON object."))])
        if _has_null_character(data):
            raise null_refused()
        # JSON may escape half of a UTF-16 pair ("\ud800"): no database can store it.
        if _SURROGATE.search(json.dumps(data, ensure_ascii=False, default=str)):
            raise exceptions.ParseError(str(LONE_SURROGATES))
        return data

    def valid(self, serializer_class, request):
        serializer = serializer_class(data=self.body(request))
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def cleaned(self, form_class, request, **kwargs) -> dict:
        """The body checked by the browser's form for the same action: one validation
        path, one set of messages; refused as a 400 naming each field."""
        form = form_class(form_data(self.body(request), form_class), **kwargs)
        if not form.is_valid():
            raise form_invalid(form)
        return form.cleaned_data


def error_responses(*codes: int) -> dict:
    """The refusals an operation can answer with, besides 401 and 429 (all of them)."""
    described = {
        400: "Bad input: each error names its field (and the standard's code).",
        401: "No credentials: send `Authorization: Token …`.",
        403: "Not allowed for this user (standard.md §5).",
        404: "Not found, or not visible to the user's member.",
        409: "Refused by the state of things, e.g. a closed review or the funding gap.",
        429: "Too many requests: see Retry-After.",
    }
    return {
        code: OpenApiResponse(ErrorSerializer, description=described[code])
        for code in sorted({401, 429, *codes})
    }


def records_access(applications, user, view: str) -> None:
    """§5: one access record per application whose personal data was shown."""
    unique = {application.pk: application for application in applications}
    audit.access_record_list(applications=list(unique.values()), user=user, view=view)


class SmallPages(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


# --- request bodies documented from the forms that check them --------------------------------


def _schema_field(field):
    """The serializer field that describes a form field in the OpenAPI schema."""
    common = {"required": field.required, "help_text": field.label or ""}
    if isinstance(field, django_forms.ModelChoiceField):
        return serializers.IntegerField(**common)
    if isinstance(field, django_forms.MultipleChoiceField):
        return serializers.MultipleChoiceField(
            choices=field.choices, allow_empty=not field.required, **common
        )
    if isinstance(field, django_forms.ChoiceField):
        return serializers.ChoiceField(
            choices=field.choices, allow_blank=not field.required, **common
        )
    if isinstance(field, django_forms.DecimalField):
        return serializers.DecimalField(
            max_digits=field.max_digits,
            decimal_places=field.decimal_places,
            min_value=field.min_value,
            max_value=field.max_value,
            **common,
        )
    if isinstance(field, django_forms.DateField):
        return serializers.DateField(**common)
    if isinstance(field, django_forms.FileField):
        return serializers.FileField(**common)
    if isinstance(field, django_forms.BooleanField):
        return serializers.BooleanField(**common)
    return serializers.CharField(
        max_length=field.max_length, allow_blank=not field.required, **common
    )


def form_serializer(form_class, name: str, *, exclude=()) -> type[serializers.Serializer]:
    """A serializer describing `form_class`'s fields, for the schema only: the form is what
    checks the body (form_data), so a minimum or a length is written once, in the form."""
    fields = {
        key: _schema_field(field)
        for key, field in form_class.base_fields.items()
        if key not in exclude
    }
    return type(name, (serializers.Serializer,), {**fields, "__doc__": form_class.__doc__})
