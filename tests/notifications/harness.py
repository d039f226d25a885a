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


class _SmtpSession(asyncio.Protocol):
    """One client connection: RFC 5321's server side for what a mail submission needs
    (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), with RFC 2920 PIPELINING.

    Input is taken a buffer at a time, not a line at a time: the commands of a pipelined
    group are answered in order and their replies written together, as production servers
    do, and a message body is found whole by its ``CRLF.CRLF`` end and unstuffed in one
    pass. The receiver shares the machine's two cores with the workers it counts for, so
    what it spends per message is taken from them (the delivery benchmark)."""

    def __init__(self, receiver: "SmtpReceiver"):
        self.receiver = receiver
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.greeted = False
        self.in_data = False
        self.mail_from: str | None = None
        self.rcpt_tos: list[str] = []
        self.pending: asyncio.TimerHandle | None = None  # a delayed reply to a message
        self.pending_token: object | None = None
        self.quitting = False

    # ── asyncio callbacks ──

    def connection_made(self, transport):
        self.transport = transport
        self.receiver._sessions.add(self)
        transport.write(b"220 127.0.0.1 ESMTP test receiver\r\n")

    def data_received(self, data: bytes):
        self.buffer += data
        if self.pending is None:
            self._process()

    def connection_lost(self, exc):
        self.receiver._sessions.discard(self)
        if self.pending is not None:  # the sender hung up before our reply
            self.pending.cancel()
            self.pending = None
            self._end_in_flight()
            with self.receiver.lock:
                self.receiver.aborted.append("?")

    # ── protocol ──

    def _process(self) -> None:
        replies: list[bytes] = []
        while self.pending is None and not self.quitting and not self.transport.is_closing():
            if self.in_data:
                if not self._take_message(replies):
                    break
                continue
            end = self.buffer.find(b"\r\n")
            if end < 0:
                if len(self.buffer) > 4096:
                    replies.append(b"500 Error: line too long\r\n")
                    self.buffer.clear()
                break
            line = bytes(self.buffer[:end]).decode("utf-8", "surrogateescape")
            del self.buffer[: end + 2]
            reply = self._command(line)
            if reply:
                replies.append(reply.encode() + b"\r\n")
        if replies:
            self.transport.write(b"".join(replies))
        if self.quitting:
            self.transport.close()

    def _command(self, line: str) -> str:
        verb, _, arg = line.partition(" ")
        verb = verb.upper()
        if verb == "EHLO":
            self._reset()
            self.greeted = True
            offers = ["250-127.0.0.1", "250-SIZE 33554432", "250-8BITMIME", "250-PIPELINING"]
            return "\r\n".join([*offers, "250 HELP"])
        if verb == "HELO":
            self._reset()
            self.greeted = True
            return "250 127.0.0.1"
        if verb in ("NOOP", "RSET"):
            if verb == "RSET":
                self._reset()
            return "250 OK"
        if verb == "QUIT":
            self.quitting = True
            return "221 Bye"
        if verb in ("MAIL", "RCPT"):
            return self._envelope(verb, arg)
        if verb == "DATA":
            if not self.rcpt_tos:
                return "503 Error: need RCPT command"
            self.in_data = True
            return "354 End data with <CR><LF>.<CR><LF>"
        return f'500 Error: command "{verb}" not recognized'

    def _envelope(self, verb: str, arg: str) -> str:
        """MAIL FROM:<address> or RCPT TO:<address>, in the order RFC 5321 allows."""
        if verb == "MAIL":
            if not self.greeted:
                return "503 Error: send HELO first"
            if self.mail_from is not None:
                return "503 Error: nested MAIL command"
        elif self.mail_from is None:
            return "503 Error: need MAIL command"
        keyword = "FROM:" if verb == "MAIL" else "TO:"
        address = _path(arg, keyword)
        if address is None:
            return f"501 Syntax: {verb} {keyword} <address>"
        refusal = self.receiver.refuse.get(address)
        if refusal:
            return refusal
        if verb == "MAIL":
            self.mail_from = address
        else:
            self.rcpt_tos.append(address)
        return "250 OK"

    def _take_message(self, replies: list[bytes]) -> bool:
        """A whole message in the buffer: take it and answer (now, or after the receiver's
        delay); False while its end has not arrived."""
        if self.buffer.startswith(b".\r\n"):
            body, taken = b"", 3
        else:
            end = self.buffer.find(b"\r\n.\r\n")
            if end < 0:
                return False
            body, taken = bytes(self.buffer[: end + 2]), end + 5
        del self.buffer[:taken]
        self.in_data = False
        raw = _LEADING_DOT.sub(b"", body)  # RFC 5321 4.5.2: a doubled leading dot is one
        self._reset()
        receiver = self.receiver
        token = self.pending_token = object()
        with receiver.lock:
            receiver.in_flight += 1
            receiver.sending_since[token] = time.monotonic()
        if receiver.delay:
            if replies:  # what came before the message is answered before the wait
                self.transport.write(b"".join(replies))
                replies.clear()
            loop = asyncio.get_running_loop()
            self.pending = loop.call_later(receiver.delay, self._answer_delayed, raw)
        else:
            replies.append(self._accept(raw))
        return True

    def _answer_delayed(self, raw: bytes) -> None:
        self.pending = None
        self.transport.write(self._accept(raw))
        self._process()  # whatever the client sent meanwhile

    def _accept(self, raw: bytes) -> bytes:
        receiver = self.receiver
        self._end_in_flight()
        message = message_from_bytes(raw) if receiver.keep_messages else None
        key = message.get("Message-ID", "").strip() if message else _message_id(raw)
        # Accept only while the client is still there to hear "250": a sender killed
        # before the reply has not handed the message over (RFC 1047's window aside).
        if self.transport.is_closing():
            with receiver.lock:
                receiver.aborted.append(key)
            return b"451 sender went away\r\n"
        with receiver.lock:
            receiver.seen.append(key)
            refusal = receiver.data_replies.pop(0) if receiver.data_replies else None
        if refusal:  # the message came whole, and the server refuses it after all
            return refusal.encode() + b"\r\n"
        if receiver.on_accept is not None:
            receiver.on_accept(key)  # before the "250": the sender is waiting for it
        with receiver.lock:
            receiver.accepted[key] += 1
            receiver.total += 1
            receiver.last_at = time.monotonic()
            receiver.first_at = receiver.first_at or receiver.last_at
            receiver.arrived_at.setdefault(key, receiver.last_at)
            if receiver.keep_messages:
                receiver.messages.append(message)
        return b"250 OK\r\n"

    def _end_in_flight(self) -> None:
        with self.receiver.lock:
            if self.pending_token is not None:
                self.receiver.in_flight -= 1
                del self.receiver.sending_since[self.pending_token]
                self.pending_token = None

    def _reset(self) -> None:
        self.mail_from = None
        self.rcpt_tos = []


_LEADING_DOT = re.compile(rb"(?m)^\.")
_PATH = re.compile(r"\s*<(.*)>(.*)\Z", re.DOTALL)


def _path(arg: str, keyword: str) -> str | None:
    """The address of ``FROM:<address> [parameters]`` / ``TO:<address>``, or None."""
    if arg[: len(keyword)].upper() != keyword:
        return None
    found = _PATH.match(arg[len(keyword) :])
    return found.group(1) if found else None


class SmtpReceiver:
    """A real SMTP server on a free port (its own thread and event loop), counting accepted
    messages per Message-ID.

    Written here rather than taken from aiosmtpd (``AiosmtpdReceiver`` below, the same
    behaviour through the library) by measurement (issue 18): aiosmtpd reads a message line
    by line and writes each reply apart, and spent about five times this server's CPU per
    reminder-sized message (0.29 against 0.06 ms, alternating rounds, same client). The
    benchmark's receiver runs on the two cores whose delivery rate it measures, at about half
    the no-op ceiling: with aiosmtpd it would take a tenth more of the CPU a delivered message
    costs them (1.7-2.2 ms, bench/README.md) away from the workers.
    tests/notifications/test_smtp_delivery.py runs its cases against both.

    ``delay`` holds each reply to a message that long; ``refuse`` maps an address to the reply
    its MAIL or RCPT command gets; ``data_replies`` are the replies to the next messages' end of
    DATA instead of "250" (a server that takes the message, then refuses it);
    ``on_accept(message_id)`` runs on the server's thread when it accepts a message, before the
    "250" goes back. ``seen`` lists the Message-ID of every message that arrived whole, accepted
    or not."""

    def __init__(
        self,
        delay: float = 0.0,
        keep_messages: bool = True,
        refuse: dict[str, str] | None = None,
        data_replies: list[str] | None = None,
        on_accept=None,
    ):
        self.port = free_port()
        self.delay = delay
        self.refuse = refuse or {}  # address -> the reply to its MAIL or RCPT command
        self.data_replies = list(data_replies or [])
        self.on_accept = on_accept
        self.seen: list[str] = []
        self.arrived_at: dict[str, float] = {}  # Message-ID -> monotonic time of its first copy
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
        self._sessions: set[_SmtpSession] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> "SmtpReceiver":
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = self._loop = asyncio.new_event_loop()
            try:
                self._server = loop.run_until_complete(
                    loop.create_server(lambda: _SmtpSession(self), "127.0.0.1", self.port)
                )
            except BaseException as exc:  # noqa: BLE001 - reported to start()
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.close()

        self._thread = threading.Thread(target=serve, name=f"smtp-{self.port}", daemon=True)
        self._thread.start()
        if not ready.wait(10) or failure:
            raise RuntimeError(f"the SMTP receiver did not start: {failure}")
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return

        async def shut() -> None:
            self._server.close()
            for session in list(self._sessions):
                session.transport.close()
            await self._server.wait_closed()
            loop.stop()

        loop.call_soon_threadsafe(lambda: loop.create_task(shut()))
        thread.join(10)
        self._thread = None

    def duplicates(self) -> dict:
        with self.lock:
            return {key: n for key, n in self.accepted.items() if n > 1}


def pg_bin(name: str) -> str:
    """A PostgreSQL program: on the PATH, else the newest server's (Debian keeps initdb and
    pg_ctl under /usr/lib/postgresql/<version>/bin)."""
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    found = shutil.which(name) if name not in ("initdb", "pg_ctl") else None
    found = found or (str(candidates[0]) if candidates else None)
    assert found, f"PostgreSQL's {name} is needed (install postgresql)"
    return found


class PostgresCluster:
    """A throw-away PostgreSQL cluster of our own (initdb in ``root``, a free loopback port),
    so a test can restart the database server without touching the machine's."""

    def __init__(self):
        # A directory of its own under the system's temporary folder: the server runs as
        # the postgres user, who cannot reach into pytest's private tmp_path.
        self.root = Path(tempfile.mkdtemp(prefix="ipt-pg-"))
        self.dir = self.root / "pg"
        self.sock = self.root / "pgsock"
        self.port = free_port()
        # initdb and the server refuse to run as root.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_user, *args], check=True, capture_output=True, text=True)

    def start(self) -> "PostgresCluster":
        self.sock.mkdir(parents=True)
        if self.as_user:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.sock, "postgres")
        self._run(
            pg_bin("initdb"), "-D", str(self.dir), "-A", "trust", "-U", "postgres", "--no-sync"
        )
        with (self.dir / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.sock}'\nmax_connections = 100\n"
                "fsync = off\nfull_page_writes = off\n"
            )
        self._pg_ctl("start")
        return self

    def _pg_ctl(self, action: str, *extra: str) -> None:
        log = str(self.dir / "server.log")
        self._run(pg_bin("pg_ctl"), "-D", str(self.dir), "-l", log, "-w", *extra, action)

    def restart(self) -> float:
        """``pg_ctl restart -m fast`` (every connection is cut); returns the seconds it took."""
        started = time.monotonic()
        self._pg_ctl("restart", "-m", "fast")
        return time.monotonic() - started

    def stop(self) -> None:
        """Stop the server and remove its files."""
        if (self.dir / "postmaster.pid").exists():
            self._pg_ctl("stop", "-m", "fast")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        subprocess.run(
            [pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name],
            check=True,
            capture_output=True,
        )
        return self.url(name)


def manage(database: str, *args: str, **extra_env) -> str:
    """``manage.py <args>`` in a process of its own against ``database`` (a DATABASE_URL);
    its output. Fails with the output when the command does."""
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="ipt_clinic.settings.local",
        DEBUG="false",
        DATABASE_URL=database,
        LOG_LEVEL="WARNING",
        **{key: str(value) for key, value in extra_env.items()},
    )
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
    return done.stdout


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
            "SMS_BACKEND": "notifications.sms.ConsoleSmsBackend",
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


class _AiosmtpdHandler:
    """aiosmtpd's hooks doing what ``_SmtpSession`` does: the refusals, the delay, the
    replies after DATA, the counts (the client going away during the delay cancels the
    hook)."""

    def __init__(self, receiver: "SmtpReceiver"):
        self.receiver = receiver

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        refusal = self.receiver.refuse.get(address)
        if refusal:
            return refusal
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refusal = self.receiver.refuse.get(address)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        receiver = self.receiver
        raw = envelope.original_content
        token = object()
        with receiver.lock:
            receiver.in_flight += 1
            receiver.sending_since[token] = time.monotonic()
        try:
            if receiver.delay:
                await asyncio.sleep(receiver.delay)
        except asyncio.CancelledError:
            with receiver.lock:
                receiver.aborted.append("?")
            raise
        finally:
            with receiver.lock:
                receiver.in_flight -= 1
                del receiver.sending_since[token]
        message = message_from_bytes(raw) if receiver.keep_messages else None
        key = message.get("Message-ID", "").strip() if message else _message_id(raw)
        with receiver.lock:
            receiver.seen.append(key)
            refusal = receiver.data_replies.pop(0) if receiver.data_replies else None
        if refusal:
            return refusal
        if receiver.on_accept is not None:
            receiver.on_accept(key)
        with receiver.lock:
            receiver.accepted[key] += 1
            receiver.total += 1
            receiver.last_at = time.monotonic()
            receiver.first_at = receiver.first_at or receiver.last_at
            receiver.arrived_at.setdefault(key, receiver.last_at)
            if receiver.keep_messages:
                receiver.messages.append(message)
        return "250 OK"


class AiosmtpdReceiver(SmtpReceiver):
    """``SmtpReceiver`` served by aiosmtpd: the plain way the tests compare it with."""

    def start(self) -> "AiosmtpdReceiver":
        from aiosmtpd.controller import Controller

        self._controller = Controller(
            _AiosmtpdHandler(self), hostname="127.0.0.1", port=self.port, ready_timeout=10
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        controller = getattr(self, "_controller", None)
        if controller is not None:
            controller.stop()
            self._controller = None
