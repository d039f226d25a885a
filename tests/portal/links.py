"""Following a patient's personal link as their browser does."""

import re
from urllib.parse import urlsplit

from django.test import Client

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def open_portal(client: Client, url: str):
    """Open the link's page, then press its "Open my page" button. Returns the answer to the
    button (302 to the portal's home), or the link's own answer when it shows no button
    (404, 410, 429, a staff browser's 403)."""
    path = urlsplit(url).path
    landing = client.get(path)
    if landing.status_code != 200:
        return landing
    [token] = CSRF_FIELD.findall(landing.content.decode())
    return client.post(path, {"csrfmiddlewaretoken": token})
