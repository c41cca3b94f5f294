from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizationsConfig(AppConfig):
    name = "organizations"
    verbose_name = _("Alliance directory")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from organizations import second_factor
        from organizations.accounts import stamp_login

        user_logged_in.connect(stamp_login, dispatch_uid="organizations.stamp_login")
        user_logged_in.connect(
            second_factor.mark_login, dispatch_uid="organizations.second_factor.mark_login"
        )
