from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizationsConfig(AppConfig):
    name = "organizations"
    verbose_name = _("Alliance directory")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in
        from django.core.signals import request_finished, request_started
        from django.db.models.signals import post_delete, post_save
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from aid_alliance import generations
        from organizations import auth_backends, directory_cache, second_factor
        from organizations.accounts import stamp_login
        from organizations.models import (
            AidProject,
            DiseaseCategory,
            MemberOrganization,
            RuleSet,
            User,
        )

        user_logged_in.connect(stamp_login, dispatch_uid="organizations.stamp_login")
        user_logged_in.connect(
            second_factor.mark_login, dispatch_uid="organizations.second_factor.mark_login"
        )
        # The cached users (auth_backends): every change of a user, a member or a device.
        for signal in (post_save, post_delete):
            for model, receiver in (
                (User, auth_backends.user_changed),
                (TOTPDevice, auth_backends.user_changed),
                (MemberOrganization, auth_backends.member_changed),
            ):
                signal.connect(
                    receiver, sender=model, dispatch_uid=f"auth_backends.{model.__name__}"
                )
        # Read from the cache with the session (aid_alliance.session_store): the signed-in
        # user's copy and generations, and the directory's generation, which the lists, the
        # dashboard and the API compare on every request; forgotten when a request starts
        # and when it ends.
        generations.read_with_the_session(auth_backends.keys_with_the_session)
        generations.read_with_the_session(directory_cache.keys_with_the_session)
        for signal in (request_started, request_finished):  # and a session read outside one
            signal.connect(
                generations.forget_what_was_read_with_the_session,
                dispatch_uid=f"generations.forget_what_was_read_with_the_session.{id(signal)}",
            )
        # The directory's generation (directory_cache): every change of what the API shows.
        for signal in (post_save, post_delete):
            for model in (MemberOrganization, AidProject, DiseaseCategory, RuleSet):
                signal.connect(
                    directory_cache.directory_changed,
                    sender=model,
                    dispatch_uid=f"directory_cache.{model.__name__}",
                )
