"""Password authentication, with the signed-in user's clinic loaded alongside the user."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db import connection

from ipt_clinic import rows


def _user_statement() -> tuple[str, list[rows.Columns]]:
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


def read_user_with_clinic(user_id: int):
    """The user ``user_id`` with their clinic (None when they have none) in one fixed
    statement, as ``select_related("clinic").get(pk=user_id)`` gives it; None when there is
    no such user."""
    sql, parts = rows.statement("request-user", _user_statement)
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    user, clinic = rows.instances(row, parts)
    user.clinic = clinic  # the related object, cached as select_related leaves it
    return user


class ClinicModelBackend(ModelBackend):
    """Django's ModelBackend, except that the user of each request comes with its clinic in
    the same query: every staff page names the clinic in its header and scopes by it."""

    def get_user(self, user_id):
        """Read by one fixed statement (``ipt_clinic.rows``) instead of the ORM's lookup
        compiled on each request: every staff request reads its user, and the bench's
        session-page and note-form targets need that compile saved. An inactive user is
        refused as ModelBackend refuses them (``user_can_authenticate``)."""
        pk = get_user_model()._meta.pk
        try:
            user_id = pk.to_python(user_id)
        except ValidationError:  # a session naming no valid id: no user
            return None
        if user_id is None or not rows.column_holds(get_user_model(), user_id):
            return None  # as the ORM answers an id outside the column's range: no such row
        user = read_user_with_clinic(user_id)
        if user is None:
            return None
        return user if self.user_can_authenticate(user) else None
