"""gunicorn's logger with the secrets of addresses removed (``ipt_clinic.log_redaction``).

``scripts/serve web`` passes ``--logger-class ipt_clinic.gunicorn_logging.RedactingLogger``.
The access log's request line, its Referer and any request header a format may name, and the
error log's "Error handling request /p/..." lines are redacted before any handler (stdout, a
file, syslog) sees them.
"""

from gunicorn.glogging import Logger

from ipt_clinic.log_redaction import RedactSecrets


class RedactingLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        # setup() runs again on a configuration reload (SIGHUP): one filter per logger.
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, RedactSecrets) for f in log.filters):
                log.addFilter(RedactSecrets())
