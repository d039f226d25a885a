from tests.matrix import Row

ROWS = {
    "caseload:notification_log": [
        Row(audience="admin"),
        Row(audience="admin", query="status=failed&kind=session_reminder&channel=email"),
    ],
    # Ids are posted; rows outside the admin's clinic are ignored (another clinic's admin is
    # redirected back to their own log with nothing changed).
    "caseload:notification_retry": [
        Row(audience="admin", method="post", data=lambda w: {"ids": [w.notification.pk]}),
    ],
}
