"""Turn ``EMAIL_URL`` into Django's ``MAILERS`` setting (Django 6.1 deprecates EMAIL_BACKEND,
EMAIL_HOST and friends in its favour).

Accepted forms::

    smtp://user:password@host:25         plain SMTP (may upgrade nothing)
    smtp+tls://user:password@host:587    SMTP with STARTTLS
    smtps://user:password@host:465       SMTP over TLS from the first byte (also smtp+ssl://)
    consolemail://                       print messages on standard output
    filemail:///absolute/directory       write each message to a file in that directory
    memorymail://                        keep messages in django.core.mail.outbox (tests)
    dummymail://                         drop every message

``?timeout=10`` sets the SMTP timeout in seconds. User and password are percent-decoded,
so a password holding ``@`` or ``/`` is written ``%40`` / ``%2F``.
"""

from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
BACKENDS = {
    "consolemail": "django.core.mail.backends.console.EmailBackend",
    "filemail": "django.core.mail.backends.filebased.EmailBackend",
    "memorymail": "django.core.mail.backends.locmem.EmailBackend",
    "dummymail": "django.core.mail.backends.dummy.EmailBackend",
}
SMTP_SCHEMES = {"smtp": {}, "smtp+tls": {"use_tls": True}, "smtps": {"use_ssl": True}}
SMTP_SCHEMES["smtp+ssl"] = SMTP_SCHEMES["smtps"]


def mailers_from_url(url: str, *, variable: str = "EMAIL_URL") -> dict:
    """``{"default": {"BACKEND": ..., "OPTIONS": {...}}}`` for one mail URL, or a clear
    ImproperlyConfigured naming ``variable``."""

    def bad(reason: str) -> ImproperlyConfigured:
        return ImproperlyConfigured(f"Environment variable {variable} has a bad value: {reason}")

    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise bad(str(exc)) from exc
    scheme = parts.scheme.lower()
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = set(query) - {"timeout"}
    if unknown:
        raise bad(f"unknown option(s) {', '.join(sorted(unknown))} (only timeout is known)")

    if scheme in SMTP_SCHEMES:
        if not parts.hostname:
            raise bad(f"{scheme}:// needs a host, as in {scheme}://user:password@host:port")
        options: dict = {"host": parts.hostname, **SMTP_SCHEMES[scheme]}
        if port is not None:
            options["port"] = port
        if parts.username:
            options["username"] = unquote(parts.username)
            options["password"] = unquote(parts.password or "")
        if "timeout" in query:
            try:
                options["timeout"] = float(query["timeout"])
            except ValueError as exc:
                raise bad(f"timeout must be a number of seconds, got {query['timeout']!r}") from exc
            if options["timeout"] <= 0:
                raise bad("timeout must be more than 0 seconds")
        return {"default": {"BACKEND": SMTP_BACKEND, "OPTIONS": options}}

    if scheme == "filemail":
        path = unquote(parts.path)
        if parts.netloc or not path.startswith("/") or path == "/":
            raise bad("filemail needs an absolute directory, as in filemail:///var/mail/ipt")
        return {"default": {"BACKEND": BACKENDS["filemail"], "OPTIONS": {"file_path": path}}}

    if scheme in BACKENDS:
        return {"default": {"BACKEND": BACKENDS[scheme]}}

    known = ", ".join(f"{name}://" for name in [*SMTP_SCHEMES, *BACKENDS])
    raise bad(f"unknown scheme {parts.scheme!r} (use one of {known})")
