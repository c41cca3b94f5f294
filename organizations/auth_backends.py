"""The authentication backend: Django's ModelBackend, with the user's member read in the
same query as the user (issue 18).

Every staff page reads `request.user.organization` (the navigation, the access rules in
cases.access, the member's inbox): with the plain backend that is a second query on each
request after the user's own.
"""

from django.contrib.auth.backends import ModelBackend

from organizations.models import User


class UserWithMemberBackend(ModelBackend):
    def get_user(self, user_id):
        try:
            user = User._default_manager.select_related("organization").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
