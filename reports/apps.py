from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from organizations.models import AidProject, DiseaseCategory, MemberOrganization
        from reports import (
            checks,  # noqa: F401 - registers the CJK font check
            figures_cache,
        )

        # The cached figures name every member, project and category (their breakdowns'
        # rows): any of them saved or deleted starts a new generation at its commit.
        for signal in (post_save, post_delete):
            for model in (MemberOrganization, AidProject, DiseaseCategory):
                signal.connect(
                    figures_cache.directory_changed,
                    sender=model,
                    dispatch_uid=f"figures_cache.{model.__name__}",
                )
