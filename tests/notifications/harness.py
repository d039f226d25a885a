"""Real processes for the fault proofs and the benchmark: a private redis-server, an SMTP
receiver that counts deliveries by Message-ID, and Celery workers / beat as subprocesses.

Everything here starts its own process on a free loopback port and stops only what it
started (by process group id) — never the machine's Redis, PostgreSQL or mail services.
"""

import asyncio
import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from email import message_from_bytes
from pathlib import Path
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(predicate, timeout: float, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class RedisServer:
    """A throw-away redis-server: no persistence, so a restart starts empty."""

    def __init__(self, log_dir: Path):
        self.port = free_port()
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        redis_server = shutil.which("redis-server")
        assert redis_server, "redis-server is needed for the fault proofs"
        log = open(self.log_dir / f"redis-{self.port}.log", "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [redis_server, "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--daemonize", "no"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until(self._answers, 10, what="redis-server to answer")
        return self

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


def _message_id(raw: bytes) -> str:
    found = _MESSAGE_ID.search(raw)
    return found.group(1).decode() if found else ""


class _CountingHandler:
    def __init__(self, receiver: "SmtpReceiver"):
        self.receiver = receiver

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        """aiosmtpd reads each command from a buffered stream in turn and answers in order,
        which is all RFC 2920 asks of a server; the receiver says so (unless told not to),
        as production mail servers do."""
        session.host_name = hostname
        if self.receiver.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, options):  # noqa: N802
        refusal = self.receiver.refuse.get(address)
        if refusal:
            return refusal
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        refusal = self.receiver.refuse.get(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        receiver = self.receiver
        token = object()
        with receiver.lock:
            receiver.in_flight += 1
            receiver.sending_since[token] = time.monotonic()
        try:
            if receiver.delay:
                try:
                    await asyncio.sleep(receiver.delay)
                except asyncio.CancelledError:  # the sender hung up before our reply
                    with receiver.lock:
                        receiver.aborted.append("?")
                    raise
            raw = envelope.original_content or envelope.content
            message = message_from_bytes(raw) if receiver.keep_messages else None
            key = message.get("Message-ID", "").strip() if message else _message_id(raw)
            transport = getattr(session, "transport", None) or getattr(server, "transport", None)
            # Accept only while the client is still there to hear "250": a sender killed
            # before the reply has not handed the message over (RFC 1047's window aside).
            if transport is None or transport.is_closing():
                with receiver.lock:
                    receiver.aborted.append(key)
                return "451 sender went away"
            with receiver.lock:
                receiver.accepted[key] += 1
                receiver.total += 1
                receiver.last_at = time.monotonic()
                receiver.first_at = receiver.first_at or receiver.last_at
                if receiver.keep_messages:
                    receiver.messages.append(message)
            return "250 OK"
        finally:
            with receiver.lock:
                receiver.in_flight -= 1
                del receiver.sending_since[token]


_PLAIN_PATH = re.compile(r"<([A-Za-z0-9.+_-]{1,64}@[A-Za-z0-9.-]{1,255})>(.*)\Z", re.DOTALL)


class _LeanSMTP(SMTP):
    """aiosmtpd's server, with a quick path for the plain ``<local@domain>`` addresses the
    app sends from and to. aiosmtpd parses each MAIL and RCPT address with the email
    package's full header grammar, a third of its work per message; the receiver shares the
    machine's two cores with the workers it counts for, so what it spends is taken from
    them. Anything else goes through aiosmtpd's own parser, unchanged."""

    def _getaddr(self, arg):
        found = _PLAIN_PATH.match(arg.lstrip()) if arg else None
        if found is None:
            return super()._getaddr(arg)
        return found.group(1), found.group(2)


class _LeanController(Controller):
    def factory(self):
        return _LeanSMTP(self.handler, **self.SMTP_kwargs)


class SmtpReceiver:
    """A real SMTP server on a free port, counting accepted messages per Message-ID."""

    def __init__(
        self,
        delay: float = 0.0,
        keep_messages: bool = True,
        pipelining: bool = True,
        refuse: dict[str, str] | None = None,
    ):
        self.port = free_port()
        self.delay = delay
        self.pipelining = pipelining
        self.refuse = refuse or {}  # address -> the reply to its MAIL or RCPT command
        self.keep_messages = keep_messages
        self.lock = threading.Lock()
        self.accepted: Counter = Counter()
        self.aborted: list[str] = []
        self.messages: list = []
        self.in_flight = 0
        self.sending_since: dict = {}  # the DATA phases under way: when each began
        self.first_at = 0.0  # monotonic clock at the first and the latest acceptance
        self.last_at = 0.0
        self.total = 0
        self.controller = _LeanController(
            _CountingHandler(self), hostname="127.0.0.1", port=self.port, ready_timeout=10
        )

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> "SmtpReceiver":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def duplicates(self) -> dict:
        with self.lock:
            return {key: n for key, n in self.accepted.items() if n > 1}


def database_url(settings_dict: dict) -> str:
    """The DATABASE_URL a subprocess needs to reach the database this process uses."""
    engine = settings_dict["ENGINE"]
    name = str(settings_dict["NAME"])
    if engine.endswith("sqlite3"):
        return f"sqlite:///{name}"
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{quote(name, safe='')}"


class CeleryProcesses:
    """Celery workers and beats as subprocesses, each in its own process group."""

    def __init__(
        self,
        *,
        database: str,
        broker: str,
        mail: str,
        log_dir: Path,
        app: str = "tests.notifications.celery_app",
        **extra_env,
    ):
        self.app = app
        self.log_dir = log_dir
        self.state_dir = Path(tempfile.mkdtemp(prefix="ipt-beat-", dir=log_dir))
        self.processes: dict[str, subprocess.Popen] = {}
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "ipt_clinic.settings.local",
            "DEBUG": "false",
            "DATABASE_URL": database,
            "REDIS_URL": broker,
            "CELERY_RESULT_BACKEND": "",
            "EMAIL_URL": mail,
            "SMS_BACKEND": "sessions.sms.ConsoleSmsBackend",
            "LOG_LEVEL": "WARNING",
            "CONN_MAX_AGE": "0",
            "PYTHONUNBUFFERED": "1",
        }
        self.env.update({key: str(value) for key, value in extra_env.items()})
        atexit.register(self.stop_all)  # even if the caller never reaches its cleanup

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115
        process = subprocess.Popen(
            [CELERY, "-A", self.app, *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: we can stop it and its children
        )
        self.processes[name] = process
        return process

    def worker(
        self, name: str, concurrency: int = 2, pool: str = "prefork", loglevel: str = "WARNING"
    ) -> subprocess.Popen:
        return self._spawn(
            name,
            ["worker", "-l", loglevel, "-P", pool, "-c", str(concurrency)]
            + ["-n", f"{name}-{os.getpid()}@localhost", "-O", "fair"]
            + ["--without-gossip", "--without-mingle", "--without-heartbeat"],
        )

    def beat(self, name: str) -> subprocess.Popen:
        return self._spawn(
            name,
            ["beat", "-l", "WARNING", "--schedule", str(self.state_dir / f"{name}-schedule")]
            + ["--pidfile", str(self.state_dir / f"{name}.pid")],
        )

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.processes.pop(name)
        if process.poll() is None:
            os.killpg(process.pid, sig)
        process.wait(20)

    def stop_all(self) -> None:
        for name in list(self.processes):
            process = self.processes[name]
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for name in list(self.processes):
            process = self.processes.pop(name)
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)

    def log_of(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")

    def logs(self) -> str:
        parts = []
        for path in sorted(self.log_dir.glob("*.log")):
            parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}")
        return "\n".join(parts)
