"""The API's section endpoints: one URL per section (A–H but F), read or PATCHed through
the browser's section form (the bodies: cases.intake.section_bodies)."""

from __future__ import annotations

from django.utils import translation
from drf_spectacular.openapi import AutoSchema
from rest_framework.response import Response
from rest_framework.views import APIView

from aid_alliance.parsers import BoundedJSONParser
from cases import audit
from cases.access import get_application_for
from cases.api_base import CasesApi, error_responses
from cases.intake.section_bodies import section_patch, section_values
from cases.models import Application
from cases.serializers import SECTION_SERIALIZERS
from cases.standard import SECTIONS

# --- the view: one URL per section -----------------------------------------------------------


class SectionSchema(AutoSchema):
    """Each section's URL is its own operation, described by that section's serializer."""

    def get_summary(self):
        key = self.view.section
        with translation.override("en"):
            title = str(SECTIONS[key])
        verb = "Read" if self.method == "GET" else "Change"
        return f"{verb} section {key} ({title})"

    def get_tags(self):
        return ["applications"]

    def get_response_serializers(self):
        codes = (403, 404) if self.method == "GET" else (400, 403, 404, 409)
        return {200: self.view.get_serializer(), **error_responses(*codes)}


class SectionView(CasesApi, APIView):
    """One section (A–H but F, the documents) of an application: read it, or PATCH it
    through the browser's section form. A PATCH sets the fields it sends and keeps the
    others. A draft may lack required fields (submission checks them); as in the browser, a
    required field once filled is not emptied. Any invalid field refuses the whole PATCH
    with 400 and saves nothing."""

    section = ""  # one view per section: set by cases.api_urls
    parser_classes = [BoundedJSONParser]
    schema = SectionSchema()

    def get_serializer(self, *args, **kwargs):
        return SECTION_SERIALIZERS[self.section](*args, **kwargs)

    def _respond(self, application):
        audit.access_record(application=application, user=self.request.user, view="api-section")
        values = section_values(application, self.section)
        return Response(self.get_serializer(values).data)

    def get(self, request, reference):
        return self._respond(get_application_for(request.user, reference))

    def patch(self, request, reference):
        application = get_application_for(request.user, reference, edit=True)
        section_patch(
            application=application, section=self.section, body=self.body(request), by=request.user
        )
        # As saved (the object above holds the rows prefetched before the change).
        return self._respond(Application.objects.select_related("child").get(pk=application.pk))
