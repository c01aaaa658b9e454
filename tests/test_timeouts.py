"""Timeouts that hold: exec_* returns within TOTAL_TIMEOUT (plus a small margin) whatever
MSG_TIMEOUT is, against servers that accept and never answer, or trickle bytes."""

import socket
import threading
import time

import pytest

from openssl_cmp import CMPError, Context, LogLevel, Option, PrivateKey

# OpenSSL's deadlines have a resolution of one second (time(NULL)), and the client checks
# the remaining time before each message: allow that plus scheduling noise.
MARGIN = 2.5


class _Peer:
    """A TCP server on 127.0.0.1 that accepts and then does ``behaviour(conn, stop)``."""

    def __init__(self, behaviour):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.accepted = 0
        self.behaviour = behaviour
        self.threads = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.listener.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            self.accepted += 1
            t = threading.Thread(target=self._one, args=(conn,), daemon=True)
            t.start()
            self.threads.append(t)

    def _one(self, conn):
        try:
            self.behaviour(conn, self.stop)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.stop.set()
        self.thread.join(5)
        for t in self.threads:
            t.join(5)
        self.listener.close()


def silent(conn, stop):
    """Read the request, never answer."""
    conn.settimeout(0.2)
    while not stop.is_set():
        try:
            if not conn.recv(65536):
                return
        except socket.timeout:
            pass


def trickle(conn, stop):
    """Read the request, then send a valid-looking response one byte every 0.3 s."""
    conn.settimeout(0.5)
    try:
        conn.recv(65536)
    except socket.timeout:
        pass
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/pkixcmp\r\n"
            b"Content-Length: 100000\r\n\r\n")
    for byte in head + b"\x30" * 100000:
        if stop.wait(0.3):
            return
        conn.sendall(bytes([byte]))


@pytest.fixture
def key():
    return PrivateKey.generate("EC")


def _client(port, key, **options):
    ctx = Context()
    ctx.set_url("http://127.0.0.1:%d/pkix/" % port)
    ctx.reference_value, ctx.secret_value = b"ref", b"secret"
    ctx.subject_name = "/CN=timeout"
    ctx.set_new_pkey(key)
    ctx.log_verbosity = LogLevel.CRIT
    for option, value in options.items():
        ctx.set_option(Option[option], value)
    return ctx


@pytest.mark.parametrize("behaviour", [silent, trickle], ids=["silent", "trickle"])
@pytest.mark.parametrize("msg_timeout", [None, 0, 3600], ids=["msg-default", "msg-0",
                                                             "msg-3600"])
def test_total_timeout_bounds_exec(behaviour, msg_timeout, key):
    peer = _Peer(behaviour)
    try:
        options = {"TOTAL_TIMEOUT": 2}
        if msg_timeout is not None:
            options = {"MSG_TIMEOUT": msg_timeout, "TOTAL_TIMEOUT": 2}
        with _client(peer.port, key, **options) as ctx:
            start = time.monotonic()
            with pytest.raises(CMPError) as info:
                ctx.exec_ir()
            elapsed = time.monotonic() - start
        assert peer.accepted >= 1, "the client never connected"
        assert elapsed < 2 + MARGIN, "exec_ir took %.1f s with TOTAL_TIMEOUT=2" % elapsed
        assert info.value.status is None
        assert "in time" in str(info.value) or "TOTAL_TIMEOUT" in str(info.value)
    finally:
        peer.close()


def test_total_timeout_also_when_set_before_msg_timeout(key):
    """The order of the two settings does not matter."""
    peer = _Peer(silent)
    try:
        ctx = _client(peer.port, key)
        ctx.set_option(Option.TOTAL_TIMEOUT, 2)
        ctx.set_option(Option.MSG_TIMEOUT, 0)
        with ctx:
            start = time.monotonic()
            with pytest.raises(CMPError):
                ctx.exec_ir()
            assert time.monotonic() - start < 2 + MARGIN
    finally:
        peer.close()


def test_msg_timeout_alone_bounds_one_exchange(key):
    peer = _Peer(silent)
    try:
        with _client(peer.port, key, MSG_TIMEOUT=1) as ctx:
            start = time.monotonic()
            with pytest.raises(CMPError) as info:
                ctx.exec_ir()
            assert time.monotonic() - start < 1 + MARGIN
            assert "did not answer in time" in str(info.value)
    finally:
        peer.close()


def test_total_timeout_sets_msg_timeout_only_when_unset(key):
    ctx = Context()
    assert ctx.get_option(Option.MSG_TIMEOUT) == -1  # OpenSSL's default: no limit
    ctx.set_option(Option.TOTAL_TIMEOUT, 30)
    assert ctx.get_option(Option.MSG_TIMEOUT) == 30  # capped by the time left, per message
    ctx.set_option(Option.MSG_TIMEOUT, 5)
    ctx.set_option(Option.TOTAL_TIMEOUT, 60)
    assert ctx.get_option(Option.MSG_TIMEOUT) == 5  # the user's own value is kept
    ctx.close()
