"""Password authentication, with the signed-in user's clinic loaded alongside the user."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from ipt_clinic import rows


def _user_statement():
    from django.db import connection

    from .models import Clinic

    user_model = get_user_model()
    quote = connection.ops.quote_name
    user, clinic = rows.Columns(user_model, "u"), rows.Columns(Clinic, "c")
    sql = (
        f"SELECT {user.sql}, {clinic.sql} FROM {quote(user_model._meta.db_table)} u"  # noqa: S608 - names from the models  # nosec B608
        f" LEFT JOIN {quote(Clinic._meta.db_table)} c ON c.{quote('id')} = u.{quote('clinic_id')}"
        f" WHERE u.{quote(user_model._meta.pk.column)} = %s"
    )
    return sql, [user, clinic]


class ClinicModelBackend(ModelBackend):
    """Django's ModelBackend, except that the user of each request comes with its clinic in
    the same query (every staff page names the clinic in its header and scopes by it), read
    by one fixed statement (``ipt_clinic.rows``): this lookup runs on every staff request."""

    def get_user(self, user_id):
        sql, parts = rows.statement("request-user", _user_statement)
        try:
            found = rows.fetch_one(sql, [int(user_id)], parts)
        except (TypeError, ValueError):  # a session naming no valid user id
            return None
        if found is None:
            return None
        user, clinic = found
        user_model = get_user_model()
        user_model._meta.get_field("clinic").set_cached_value(user, clinic)
        return user if self.user_can_authenticate(user) else None
