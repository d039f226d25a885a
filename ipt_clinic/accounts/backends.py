"""Password authentication, with the signed-in user's clinic loaded alongside the user."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class ClinicModelBackend(ModelBackend):
    """Django's ModelBackend, except that the user of each request comes with its clinic in
    the same query: every staff page names the clinic in its header and scopes by it."""

    def get_user(self, user_id):
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("clinic").get(pk=user_id)
        except (user_model.DoesNotExist, TypeError, ValueError):  # gone, or no valid id
            return None
        return user if self.user_can_authenticate(user) else None
