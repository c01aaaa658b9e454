"""``Server``: a CMP server over ``OSSL_CMP_SRV_CTX`` with its handlers in Python.

Concurrency design.  An ``OSSL_CMP_SRV_CTX`` keeps one open transaction (transaction ID,
nonces, polling state live in it and its inner context).  A Server therefore keeps a pool of
*workers* (one SRV_CTX each), all configured alike:

* ``process()`` / ``serve_http()``: a request is routed to the worker that holds its
  transaction ID, or a new transaction takes an idle (or new) worker.  The worker goes back
  to the pool when the response closes the transaction (PKICONF, RP, GENP, ERROR, or an
  IP/CP/KUP with implicit confirmation), when its transaction was last answered more than
  ``transaction_timeout`` seconds ago and a worker is needed, or when a limit abandons it.
  A worker left in the middle of polling is discarded, never reused.  Requests of different
  transactions run in parallel; requests of one transaction run one at a time.
* Fair limits.  A transaction left open by a response is counted for its client, under
  two keys: the sender and senderKID of the request header (checked by the server core's
  protection validation), and the connection it came on (:class:`Connection`, the peer
  address the HTTP front ends pass).  Beyond ``max_transactions_per_client`` under one key,
  that key's own oldest open transaction is abandoned; beyond ``max_open_transactions`` in
  all, the oldest under the key holding the most.  So neither one sender (whatever
  connections it uses) nor one connection (whatever senders it names) can evict another
  client's transactions.  A worker with a request in flight is never touched.
* ``attach(client)``: the client gets a worker of its own for as long as it stays attached
  (C fast path: ``OSSL_CMP_CTX_server_perform``, no Python between client and server core).

Every worker starts with an empty ``untrusted`` cache for each transaction: on OpenSSL 3.0
the inner context would otherwise collect every client's extraCerts without bound.

``server.ctx`` is a template :class:`ServerContext`: what is set on it (credentials, trust,
options) is validated at once and replayed onto every worker, present and future.  OpenSSL
state is never changed under a C call in progress on it: a worker OpenSSL is inside a call
on (a handler changing the configuration runs inside such a call) gets the change when the
call returns, before its next one.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from threading import get_ident
from typing import (TYPE_CHECKING, Any, Callable, Iterable, List, NamedTuple, NoReturn,
                    Optional, Tuple, TypeVar, Union, cast)

from openssl_cmp import _bio, _der, _pbm, _server_errors, _signer, callbacks
from openssl_cmp._header_checks import (CheckFailure, ServerChecks, check_cert_conf,
                                        check_request)
from openssl_cmp._asn1 import asn1_integer_to_int, asn1_string_bytes
from openssl_cmp._ownership import end_view, lend
from openssl_cmp._typing import CData
from openssl_cmp._boundary import boundary_of
from openssl_cmp.binding import ffi, has, lib
from openssl_cmp._bio import check_instance as _check_instance
from openssl_cmp.context import Context
from openssl_cmp.enums import BodyType, FailInfo, Option, PKIStatus
from openssl_cmp.errors import OpenSSLError, probe, raise_openssl, require
from openssl_cmp.libctx import LibContext
from openssl_cmp.keys import PrivateKey
from openssl_cmp.message import ITAV, CertRequest, Message, StatusInfo, itavs_from_stack
from openssl_cmp.objects import CSR, Certificate, Name

__all__ = ["Server", "ServerContext", "CertResponse", "RejectRequest", "ServerChecks", "Connection"]

if TYPE_CHECKING:  # types only (http is imported on demand: see serve_http)
    import ssl

    from typing_extensions import TypedDict, Unpack

    from openssl_cmp.asgi import ASGIApp
    from openssl_cmp.http import HTTPServing
    from openssl_cmp.wsgi import WSGIApp
    from openssl_cmp.tls import TLS

# The handlers' signatures (a ``Server`` subclass overrides the methods of the same names;
# ``Server(handle_…=callable)`` takes callables without ``self``).
CertRequestHandler = Callable[[Message, int, Optional[CertRequest], Optional[CSR]],
                              "CertResponse"]
"""``handle_cert_request(request, cert_req_id, crm, csr) -> CertResponse``."""
RRHandler = Callable[[Message, Optional[Name], Optional[int]], StatusInfo]
"""``handle_rr(request, issuer, serial) -> StatusInfo``."""
GenmHandler = Callable[[Message, List[ITAV]], Union[List[ITAV], Tuple[ITAV, ...]]]
"""``handle_genm(request, itavs) -> list of ITAV``."""
ErrorHandler = Callable[[Message, Optional[StatusInfo], Optional[int], List[str]], object]
"""``handle_error(request, status, error_code, details)``; the return value is ignored."""
CertConfHandler = Callable[[Message, int, bytes, Optional[StatusInfo]], bool]
"""``handle_cert_conf(request, cert_req_id, cert_hash, status) -> bool``."""
PollReqHandler = Callable[[Message, int], Tuple[Optional[Message], int]]
"""``handle_poll_req(request, cert_req_id) -> (request Message or None, check_after)``."""
DelayHook = Callable[[Message], Optional[int]]
"""``delay(request) -> check_after seconds, or None to answer now`` (OpenSSL 3.3+)."""

if TYPE_CHECKING:
    class _Handlers(TypedDict, total=False):
        """The handler keywords of ``Server()``."""

        handle_cert_request: CertRequestHandler
        handle_rr: RRHandler
        handle_genm: GenmHandler
        handle_error: ErrorHandler
        handle_cert_conf: CertConfHandler
        handle_poll_req: PollReqHandler
        delay: DelayHook

    class _ServeOptions(TypedDict, total=False):
        """The keywords of ``Server.serve_http()`` (see ``HTTPServing``)."""

        tls: TLS | ssl.SSLContext | None
        idle_timeout: float
        read_timeout: float
        write_timeout: float
        handshake_timeout: float
        max_connections: int
        backlog: int
        max_request: int
        max_header_bytes: int
        close_timeout: float

logger: logging.Logger = logging.getLogger("openssl_cmp.server")

HANDLERS = ("handle_cert_request", "handle_rr", "handle_genm", "handle_error",
            "handle_cert_conf", "handle_poll_req")
_CLOSING = (BodyType.PKICONF, BodyType.RP, BodyType.GENP, BodyType.ERROR)
_CERT_RESPONSES = (BodyType.IP, BodyType.CP, BodyType.KUP)


_FOLLOW_UPS = {
    body: "unexpected %s: no open transaction with this transactionID in this server "
          "process (RFC 9483 3.5; all messages of a transaction must reach the process that "
          "answered its first one)" % name
    for body, name in ((BodyType.CERTCONF, "certconf"), (BodyType.POLLREQ, "pollreq"))}


class RejectRequest(Exception):
    """Raise from a handler to answer with a CMP error message carrying ``text``.

    Unlike any other exception it is not re-raised to the caller: it is the handler's way of
    saying no (the client sees ``CMPError`` with the text in its error details).
    ``fail_info`` is the failInfo of the answer (default badRequest); it is applied to the
    answers of ``process()`` and ``serve_http()`` (an attached client's C fast path answers
    with OpenSSL's badRequest)."""

    fail_info: FailInfo

    def __init__(self, *args: object, fail_info: FailInfo | int = FailInfo.BAD_REQUEST) -> None:
        super().__init__(*args)
        if isinstance(fail_info, bool) or not isinstance(fail_info, int):
            raise TypeError("fail_info must be a FailInfo")
        self.fail_info = FailInfo(fail_info)


class CertResponse:
    """What ``handle_cert_request`` returns: a status and, when accepted, the certificate
    (plus optional chain and CA certificates).

    ``private_key``: the key the CA generated for a request asking for central key
    generation (RFC 9483 §4.1.6, ``crm.central_keygen_requested``); the server core
    encrypts it for the client.  OpenSSL 3.5+: on older releases the request is answered
    with an error and the call that drove the server raises ``UnsupportedError``."""

    __slots__ = ("status", "cert", "chain", "ca_pubs", "private_key")

    status: StatusInfo
    cert: Certificate | None
    chain: list[Certificate]
    ca_pubs: list[Certificate]
    private_key: PrivateKey | None

    def __init__(self, status: StatusInfo, cert: Certificate | None = None,
                 chain: Iterable[Certificate] = (),
                 ca_pubs: Iterable[Certificate] = (), *,
                 private_key: PrivateKey | None = None) -> None:
        _check_instance(status, StatusInfo, "status")
        _check_instance(cert, Certificate, "cert", allow_none=True)
        _check_instance(private_key, PrivateKey, "private_key", allow_none=True)
        if private_key is not None and cert is None:
            raise ValueError("a centrally generated private_key goes with its certificate")
        self.chain = list(chain)
        self.ca_pubs = list(ca_pubs)
        for c in self.chain + self.ca_pubs:
            _check_instance(c, Certificate, "chain/ca_pubs certificate")
        if cert is None and status.status in (PKIStatus.ACCEPTED, PKIStatus.GRANTED_WITH_MODS):
            raise ValueError("an accepted CertResponse needs a certificate")
        self.status = status
        self.cert = cert
        self.private_key = private_key

    @classmethod
    def accepted(cls, cert: Certificate, chain: Iterable[Certificate] = (),
                 ca_pubs: Iterable[Certificate] = (), *,
                 private_key: PrivateKey | None = None) -> "CertResponse":
        """Status accepted, with the new certificate (and, for central key generation, its
        private key)."""
        return cls(StatusInfo(PKIStatus.ACCEPTED), cert, chain, ca_pubs,
                   private_key=private_key)

    @classmethod
    def rejected(cls, fail_info: FailInfo | int = 0,
                 text: str | list[str] | None = None) -> "CertResponse":
        """Status rejection, with failure bits and status text."""
        return cls(StatusInfo(PKIStatus.REJECTION, fail_info, text))

    @classmethod
    def waiting(cls, text: str | list[str] | None = None) -> "CertResponse":
        """Status waiting: the client polls (see ``handle_poll_req``)."""
        return cls(StatusInfo(PKIStatus.WAITING, 0, text))

    def __repr__(self) -> str:
        return "CertResponse(%r, cert=%r)" % (self.status, self.cert)


class _Request(Message):
    """The request a handler receives: a :class:`Message` view (see the trampolines) with
    what the server established about it (``validated_signer`` is Message's own)."""

    __slots__ = ("_from_ra",)

    _from_ra: bool

    @property
    def from_ra(self) -> bool:
        """The request is signed by one of the server's ``ra_certs``: an RA acting for
        others (RFC 9483 §5.2)."""
        return bool(getattr(self, "_from_ra", False))


_Request.__name__ = _Request.__qualname__ = "Message"  # what users see: a Message


_NOT_REPLAYED = ("server.ctx is the template of the server's workers and never runs a "
                 "transaction itself")


def _refused(name: str, why: str) -> Callable[..., NoReturn]:
    def refused(self: object, *args: object, **kwargs: object) -> NoReturn:
        raise RuntimeError("server.ctx.%s: %s" % (name, why))
    refused.__name__ = name
    refused.__doc__ = "Refused on a ServerContext: %s." % why
    return refused


# Settings of a client that a server context cannot use: refused rather than replayed onto
# every worker for no effect (or, for the per-transaction values, corrupting the
# transactions in progress).
_REFUSED_SETTINGS = {
    name: "a client's transfer setting, which a server never uses"
    for name in ("transfer_callback", "transfer_callback_arg", "http_callback",
                 "http_callback_arg", "tls", "cert_conf_callback", "cert_conf_callback_arg",
                 "server", "server_port", "server_path", "proxy", "no_proxy")
}
_REFUSED_SETTINGS.update({
    name: "per transaction, set by the workers themselves (replaying it would change the "
          "transactions in progress)"
    for name in ("transaction_id", "sender_nonce")
})


class ServerContext(Context):
    """``server.ctx``: a Context whose settings are recorded and applied to every worker
    of its Server.  It is never used for a transaction itself.  (The PBM secret is kept in
    the recording, in memory, so that new workers can be configured.)

    A change reaches each worker at once, except a worker that OpenSSL is inside a call on
    (a request being processed, or the call of an attached client): that worker gets it as
    soon as the call returns, before its next C call.  Client-only settings and the methods
    that would not reach the workers raise RuntimeError (see ``docs/server.md``)."""

    __slots__ = ("_recorded", "_server_ref")

    # (kind, name[, detail]) -> the arguments, in the order of the last setting
    _recorded: dict[tuple[Any, ...], tuple[Any, ...]]
    _server_ref: weakref.ref[Server]

    def __init__(self, server: Server, libctx: CData = None, propq: str | None = None) -> None:
        super().__init__(libctx, propq)
        object.__setattr__(self, "_recorded", {})
        object.__setattr__(self, "_server_ref", weakref.ref(server))

    def __setattr__(self, name: str, value: Any) -> None:
        if name[:1] == "_":
            object.__setattr__(self, name, value)
            return
        why = _REFUSED_SETTINGS.get(name)
        if why is not None:
            raise RuntimeError("server.ctx.%s: %s" % (name, why))
        with self._boundary.lock:  # the template and its recording change together
            object.__setattr__(self, name, value)  # the property validates and sets it here
            workers = self._record(("set", name), (value,))
        self._apply_to(workers, ("set", name))

    def set_option(self, option: Option | int, value: int) -> None:
        """As :meth:`Context.set_option`, recorded and applied to every worker."""
        with self._boundary.lock:
            super().set_option(option, value)  # validates option and value
            key = ("call", "set_option", int(option))
            workers = self._record(key, (option, value))
        self._apply_to(workers, key)

    def push_geninfo_itav(self, itav: ITAV) -> None:
        """As :meth:`Context.push_geninfo_itav`, recorded and applied to every worker."""
        with self._boundary.lock:
            super().push_geninfo_itav(itav)
            key = ("call", "push_geninfo_itav", len(self._recorded))
            workers = self._record(key, (itav.copy(),))
        self._apply_to(workers, key)

    def reset_geninfo_itavs(self) -> None:
        """As :meth:`Context.reset_geninfo_itavs`, recorded and applied to every worker."""
        key = ("call", "reset_geninfo_itavs")
        with self._boundary.lock:
            super().reset_geninfo_itavs()
            for old in [k for k in self._recorded if k[:2] == ("call", "push_geninfo_itav")]:
                del self._recorded[old]
            workers = self._record(key, ())
        self._apply_to(workers, key)

    def _record(self, key: tuple[Any, ...], args: tuple[Any, ...]) -> list[_Worker]:
        """Record a change (under ``self._lock``); return the workers to apply it to."""
        server = self._server_ref()
        if server is None:
            self._recorded.pop(key, None)
            self._recorded[key] = args
            return []
        with server._pool_lock:  # a worker created from now on replays the new recording
            self._recorded.pop(key, None)  # re-insert: replay keeps the order of last setting
            self._recorded[key] = args
            return list(server._all)

    def _apply_to(self, workers: Iterable[_Worker], key: tuple[Any, ...]) -> None:
        """Apply the recorded ``key`` to ``workers`` (outside ``self._lock``: this may wait
        for a worker, and the thread holding it may be changing the configuration too).
        What is applied is the recording as it is then, so concurrent changes of one
        setting leave every worker with the last one."""
        recorded = self._recorded

        def apply(worker: _Worker) -> None:
            args = recorded.get(key)
            if args is not None:  # else superseded (a geninfo reset dropped the push)
                _apply(worker.ctx, key, args)

        for worker in workers:
            _configure(worker, apply)

    def _replay_onto(self, ctx: Context) -> None:
        for key, args in list(self._recorded.items()):
            _apply(ctx, key, args)

    @property
    def configured_untrusted(self) -> list[Certificate]:
        """The ``untrusted`` certificates set on the template (each worker starts each
        transaction with these)."""
        args = self._recorded.get(("set", "untrusted"))
        return list(args[0]) if args else []

    # what would not reach the workers (or has no meaning for a server): refused
    reinit: Callable[..., NoReturn] = _refused(
        "reinit", "every worker reinitialises itself at the start of each transaction; the "
        "template has nothing to reset")
    build_cert_chain: Callable[..., NoReturn] = _refused(
        "build_cert_chain", "the chain is not replayed to the workers; give the "
        "intermediate certificates as server.ctx.untrusted (OpenSSL adds the chain of "
        "server.ctx.cert to signed responses) or as server.ctx.extra_certs_out")
    set_url: Callable[..., NoReturn] = _refused(
        "set_url", "a client's transfer setting, which a server never uses")
    attach_srv_ctx: Callable[..., NoReturn] = _refused("attach_srv_ctx", _NOT_REPLAYED)
    close: Callable[..., NoReturn] = _refused(
        "close", "the template lives as long as its Server (which frees it, and every "
        "worker, when it is dropped); closing it alone would leave the workers configured "
        "and the template unusable")
    __enter__: Callable[..., NoReturn] = _refused(
        "__enter__", "the template is not a context manager of its own (leaving the block "
        "would close it)")


for _name in ("exec_certreq", "exec_ir", "exec_cr", "exec_p10cr", "exec_kur", "try_certreq",
              "exec_rr", "exec_genm", "get_ca_certs", "get_root_ca_key_update",
              "get_cert_req_template", "get_crl_update"):
    setattr(ServerContext, _name, _refused(_name, _NOT_REPLAYED))
for _name in ("set_new_pkey", "push_subject_alt_name", "push_policy", "push_genm_itav"):
    setattr(ServerContext, _name, _refused(_name, "a client's request content: it is not "
                                           "replayed to the workers and a server has no use "
                                           "for it"))
del _name


def _apply(ctx: Context, key: tuple[Any, ...], args: tuple[Any, ...]) -> None:
    if key[0] == "set":
        setattr(ctx, key[1], args[0])
    else:
        getattr(Context, key[1])(ctx, *args)


# --- changing a worker while OpenSSL may be inside a call on it ------------------------
#
# The rule: OpenSSL state is never changed under a C call in progress on it.  A worker is
# "in C" from just before OSSL_CMP_SRV_process_request (process/HTTP) or an attached
# client's C call (which runs the server core inside it) until just after it returns; its
# ``c_depth`` says so, and ``_in_c.depth`` says whether the current thread is inside such a
# call on any worker.  A configuration change (server.ctx, the option properties) reaches a
# worker:
#
# * at once when no C call is in progress on it;
# * a worker in C on this very thread (a handler changing the configuration): queued on
#   ``worker.pending``, applied in order when the call returns, before the worker's next C
#   call;
# * a worker in C on another thread: a thread outside any worker's C call waits for the
#   worker's lock, as before; a thread inside one (a handler) never waits (two handlers
#   changing the configuration at once would deadlock): the change is queued and the
#   thread holding the worker applies it when its call returns, or before the next one.

_in_c = threading.local()


def _configure(worker: _Worker, apply: Callable[[_Worker], None]) -> None:
    """Apply ``apply(worker)`` now if no C call is in progress on the worker, else queue it
    for when the call returns (or wait for that, see above)."""
    lock = boundary_of(worker.ctx).lock
    if getattr(_in_c, "depth", 0):
        if not lock.acquire(blocking=False):  # the thread holding it will apply it
            with worker.mutex:
                worker.pending.append(apply)
            return
    else:
        lock.acquire()
    try:
        with worker.mutex:
            if worker.c_depth:  # this very thread is inside a C call on the worker
                worker.pending.append(apply)
                return
        if worker.pending:
            _flush(worker)
        _run(worker, apply)
    finally:
        lock.release()


def _flush(worker: _Worker) -> None:
    """Apply the queued changes (lock held, no C call in progress on the worker)."""
    with worker.mutex:
        todo, worker.pending = worker.pending, []
    for apply in todo:
        _run(worker, apply)


def _run(worker: _Worker, apply: Callable[[_Worker], None]) -> None:
    try:
        # a failed change is logged below with the errors it raised; whatever else it
        # left on the queue goes with the probe
        with probe():
            apply(worker)
    except Exception:  # noqa: BLE001 - validated on the template; only OOM gets here
        worker.misconfigured = True  # finishes its transaction, then is discarded
        logger.exception("a configuration change could not be applied to a server worker; "
                         "the worker will be discarded")


def _enter_c(worker: _Worker) -> None:
    """Before a C call on the worker (its lock held)."""
    if worker.pending and not worker.c_depth:
        _flush(worker)
    with worker.mutex:
        worker.c_depth += 1
        worker.c_thread = get_ident()
    boundary_of(worker.ctx).depth += 1  # the worker's Context refuses changes meanwhile
    _in_c.depth = getattr(_in_c, "depth", 0) + 1


def _leave_c(worker: _Worker) -> None:
    """After the C call (lock still held): apply what was queued meanwhile."""
    _in_c.depth -= 1
    boundary_of(worker.ctx).depth -= 1
    with worker.mutex:
        worker.c_depth -= 1
        if worker.c_depth:
            return
        worker.c_thread = None
        if not worker.pending:
            return
    _flush(worker)


class _Worker:
    """One OSSL_CMP_SRV_CTX of a Server's pool.  Its custom_ctx is a handle to itself."""

    __slots__ = ("server_ref", "srv", "ctx", "tid", "last_used", "polling", "refused",
                 "busy", "pooled", "clients", "mutex", "c_depth", "c_thread", "pending",
                 "misconfigured", "rejection", "credentials", "signer_der", "signer",
                 "scratch", "delayed", "__weakref__")

    server_ref: weakref.ref[Server]
    srv: CData
    ctx: Context
    tid: bytes | None
    last_used: float
    polling: bool
    refused: bool
    busy: int
    pooled: bool
    clients: tuple[object, ...]
    mutex: threading.Lock
    c_depth: int
    c_thread: int | None
    pending: list[Callable[[_Worker], None]]
    misconfigured: bool
    rejection: FailInfo | None
    credentials: tuple[Any, ...] | None
    signer_der: bytes | None
    signer: Certificate | None
    scratch: _signer.Scratch | None
    delayed: Message | None

    def __init__(self, server: Server, handle: list[CData]) -> None:
        """``handle`` is ``ffi.new_handle(self)``'s slot: the Server keeps the handle (and so
        this worker) alive; the worker does not point at its own handle (no cycle)."""
        self.server_ref = weakref.ref(server)
        ptr = lib.OSSL_CMP_SRV_CTX_new(server._libctx_c, server._propq_c)
        if ptr == ffi.NULL:
            raise_openssl("cannot create OSSL_CMP_SRV_CTX")
        self.srv = ffi.gc(ptr, lib.OSSL_CMP_SRV_CTX_free)
        handle.append(ffi.new_handle(self))
        if lib.OSSL_CMP_SRV_CTX_init(ptr, handle[0], *server._c_callbacks()) != 1:
            raise_openssl("cannot initialise OSSL_CMP_SRV_CTX")
        if server._has("delay") and lib.OSSL_CMP_SRV_CTX_init_trans(
                ptr, lib.ocmp_srv_delayed_delivery_cb,
                lib.ocmp_srv_clean_transaction_cb) != 1:  # (3.3+: checked by Server())
            raise_openssl("cannot initialise delayed delivery")
        # the inner context lives as long as the SRV_CTX, which the wrapper keeps alive
        self.ctx = Context._wrap_borrowed(lib.OSSL_CMP_SRV_CTX_get0_cmp_ctx(ptr), self.srv)
        self.tid = None
        self.last_used = time.monotonic()
        self.polling = False
        self.refused = False  # the last certificate response refused: no certConf follows
        self.busy = 0  # requests in flight on it (never evicted or reset while busy)
        self.pooled = False  # in the idle list (guards against releasing it twice)
        self.clients = ()  # the keys its open transaction is counted under
        self.mutex = threading.Lock()  # guards c_depth, c_thread and pending
        self.c_depth = 0  # C calls in progress on it (OpenSSL holds pointers into it)
        self.c_thread = None  # the thread making them
        self.pending = []  # configuration changes queued until the C call returns
        self.misconfigured = False  # a change failed: never reused
        self.rejection = None  # failInfo of a handler's refusal in the call in progress
        self.credentials = None  # how the transaction's certificate request was protected
        self.signer_der = None  # the certificate that validated it
        self.signer = None  # the last validated signer of the transaction (OpenSSL < 3.2)
        self.scratch = None  # for finding it (OpenSSL < 3.2), made on first use
        self.delayed = None  # the request whose delivery is delayed (OpenSSL 3.3+)
        server.ctx._replay_onto(self.ctx)
        for name, value in server._options.items():
            server._set_flag(self, name, value)

    def begin(self, tid: bytes | None, untrusted: list[Certificate]) -> None:
        """Prepare for a new transaction: reinit the inner context (transaction ID, nonces,
        and the cached validated sender certificate), then drop the extraCerts the last
        transaction collected.  The order matters: OpenSSL's check_msg_find_cert frees a
        cached sender certificate that no longer verifies and then reads it once more, which
        is only safe while the untrusted cache still holds a reference to it."""
        with boundary_of(self.ctx).lock:  # an attached client may still be finishing on it
            if self.pending and not self.c_depth:
                _flush(self)
            self.tid = tid
            self.refused = False
            self.credentials = None
            self.signer_der = None
            self.signer = None
            self.delayed = None
            self.ctx.reinit()  # also drops the certificates kept for the cached sender cert
            self.ctx.untrusted = untrusted


class _LeaseGuard:
    """What an attached client holds around each of its C calls (``Context._call`` runs
    them inside ``with owner.lock:``): the worker's lock, and the mark that OpenSSL may be
    inside a call on the worker (the server core runs within the client's call).  Changes
    queued meanwhile are applied when the client's call returns."""

    __slots__ = ("worker",)

    def __init__(self, worker: _Worker) -> None:
        self.worker = worker

    def __enter__(self) -> _LeaseGuard:
        worker = self.worker
        boundary_of(worker.ctx).lock.acquire()
        try:
            _enter_c(worker)
        except BaseException:
            boundary_of(worker.ctx).lock.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        worker = self.worker
        try:
            _leave_c(worker)
        finally:
            boundary_of(worker.ctx).lock.release()

    # the lock protocol too, for code that calls acquire/release
    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        worker = self.worker
        if not boundary_of(worker.ctx).lock.acquire(blocking, timeout):
            return False
        try:
            _enter_c(worker)
        except BaseException:
            boundary_of(worker.ctx).lock.release()
            raise
        return True

    def release(self) -> None:
        self.__exit__(None, None, None)


class _Lease:
    """A worker lent to one attached client; returned to the pool when the client lets go
    (close, re-attach, garbage collection)."""

    __slots__ = ("server", "worker", "lock")

    def __init__(self, server: Server, worker: _Worker) -> None:
        self.server = server
        self.worker = worker
        # the client holds this around its C calls: the server core runs on the worker
        # inside the client's call (configuration changes are queued until it returns)
        self.lock = _LeaseGuard(worker)

    def __del__(self) -> None:
        try:
            self.server._give_back(self.worker, ended=True, in_flight=False)
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def __repr__(self) -> str:
        return "<attached to %r>" % (self.server,)


def _worker_of(srv_ctx: CData) -> _Worker:
    return cast(_Worker, ffi.from_handle(lib.OSSL_CMP_SRV_CTX_get0_custom_ctx(srv_ctx)))


def _sender_identity(request: Message) -> tuple[bytes, bytes | None]:
    """(sender GeneralName DER, senderKID or None) of a request's PKIHeader: who the client
    says it is (authenticated by the protection the server core checked)."""
    try:
        ptr = request.ptr  # held while its header (a get0 pointer) is encoded
        der = _bio.i2d(lib.i2d_OSSL_CMP_PKIHEADER, lib.OSSL_CMP_MSG_get0_header(ptr),
                       "PKIHeader")
        body = _der.read_tlv(der)[0].value
        pos = _der.read_tlv(body)[1]  # pvno
        sender, pos = _der.read_tlv(body, pos)
        pos = _der.read_tlv(body, pos)[1]  # recipient
        while pos < len(body):
            field, pos = _der.read_tlv(body, pos)
            if field.tag == 0xA2:  # [2] senderKID: an explicitly tagged OCTET STRING
                return sender.raw, _der.read_tlv(field.value)[0].value
            if field.tag > 0xA2:
                break
        return sender.raw, None
    except (ValueError, OpenSSLError):  # the server core parsed it: not expected
        return b"", None  # (an OpenSSLError took the queue with it: nothing is left)


def _header_fields(request: Message) -> dict[str, Any] | None:
    """The PKIHeader fields of a request (``_der.pkiheader``), or None if unreadable (the
    server core then answers it)."""
    try:
        return request._header()
    except (ValueError, OpenSSLError):  # (an OpenSSLError took the queue with it)
        return None


def _credentials(fields: dict[str, Any]) -> tuple[Any, ...]:
    """How a request is protected, for comparing a certConf with its request: the MAC
    reference, or the signer as the header names it (sender, senderKID)."""
    oid = fields.get("protection_oid")
    if oid is None:
        return ("none",)
    if oid == _pbm.PBM_OID:
        return ("mac", fields.get("sender_kid"))
    return ("signature", fields["sender"], fields.get("sender_kid"))


def _looked_up(lookup: Callable[[bytes], bytes | None], kid: bytes | None) -> bytes | None:
    """``lookup(kid)`` validated (None for a request without senderKID)."""
    if kid is None:
        return None
    secret = lookup(kid)
    if secret is None:
        return None
    if not isinstance(secret, (bytes, bytearray)) or not secret:
        raise TypeError("secret_lookup must return non-empty bytes or None, not %r"
                        % type(secret).__name__)
    return bytes(secret)


class _Protection:
    """What the answer to a MAC-protected request is protected with: the client's own
    secret (``secret_lookup``) and the request's MAC family at SHA-256 or better."""

    __slots__ = ("secret", "nids")

    def __init__(self, secret: bytes | None, nids: tuple[int, int] | None) -> None:
        self.secret = secret
        self.nids = nids

    def apply(self, ptr: CData) -> None:
        """Set on a worker's inner context (before the core runs)."""
        ok = 1
        if self.secret is not None:
            ok &= lib.OSSL_CMP_CTX_set1_secretValue(ptr, self.secret, len(self.secret))
        if self.nids is not None:
            ok &= lib.OSSL_CMP_CTX_set_option(ptr, Option.OWF_ALGNID, self.nids[0])
            ok &= lib.OSSL_CMP_CTX_set_option(ptr, Option.MAC_ALGNID, self.nids[1])
        if ok != 1:
            raise_openssl("cannot set the protection of the response")

    def adjust(self, ctx: Context) -> None:
        """Set on the scratch context that protects an error message."""
        if self.secret is not None:
            ctx.secret_value = self.secret
        if self.nids is not None:
            ctx.set_option(Option.OWF_ALGNID, self.nids[0])
            ctx.set_option(Option.MAC_ALGNID, self.nids[1])


_N = TypeVar("_N", int, float)


def _check_limit(name: str, value: _N, kind: type | tuple[type, ...], minimum: float) -> _N:
    """``value`` validated as a pool limit (TypeError, ValueError)."""
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError("%s must be %s, not %s" % (name, "a number" if kind is not int
                                                     else "int", type(value).__name__))
    if value < minimum:
        raise ValueError("%s must be >= %s, not %r" % (name, minimum, value))
    return value


class Connection(NamedTuple):
    """The connection a request came on (``peer``: the HTTP front end's peer address,
    ``"host:port"``), one of the keys :meth:`Server.transactions_by_client` counts open
    transactions under (the other: the header's sender and senderKID)."""

    peer: object


class Server:
    """A CMP server.  Subclass and override the ``handle_*`` methods, or pass callables of
    the same names.  Handlers that are not provided make the server answer that request
    type with an error (``unsupported PKIBody``).

    Pool limits (keywords or attributes, see ``docs/server.md``): ``transaction_timeout``
    (seconds an unfinished transaction keeps its worker, 300), ``max_open_transactions``
    (1024) and ``max_transactions_per_client`` (64)."""

    _transaction_timeout: float = 300.0
    _max_open_transactions: int = 1024
    _max_transactions_per_client: int = 64

    # Pool limits, read at each decision (so they may be changed at any time).
    @property
    def transaction_timeout(self) -> float:
        """Seconds an unfinished transaction keeps its worker when a worker is needed."""
        return self._transaction_timeout

    @transaction_timeout.setter
    def transaction_timeout(self, value: float) -> None:
        self._transaction_timeout = _check_limit("transaction_timeout", value, (int, float), 0)

    @property
    def max_open_transactions(self) -> int:
        """Open transactions (between requests) beyond which the oldest transaction of the
        client holding the most is abandoned."""
        return self._max_open_transactions

    @max_open_transactions.setter
    def max_open_transactions(self, value: int) -> None:
        self._max_open_transactions = _check_limit("max_open_transactions", value, int, 1)

    @property
    def max_transactions_per_client(self) -> int:
        """Open transactions of one client beyond which its own oldest is abandoned."""
        return self._max_transactions_per_client

    @max_transactions_per_client.setter
    def max_transactions_per_client(self, value: int) -> None:
        self._max_transactions_per_client = _check_limit("max_transactions_per_client",
                                                         value, int, 1)

    def __init__(self, libctx: LibContext | CData = None, propq: str | None = None, *,
                 transaction_timeout: float | None = None,
                 max_open_transactions: int | None = None,
                 max_transactions_per_client: int | None = None,
                 **handlers: Unpack[_Handlers]) -> None:
        for name, fn in handlers.items():
            if name not in HANDLERS and name != "delay":
                raise TypeError("unknown handler %r (expected one of %s, delay)"
                                % (name, ", ".join(HANDLERS)))
            if not callable(fn):
                raise TypeError("%s must be callable" % name)
            setattr(self, name, fn)
        if self._has("delay"):  # before any worker exists: no half-built server
            require("OSSL_CMP_SRV_CTX_init_trans", "delayed delivery (Server.delay)")
        if propq is not None and not isinstance(propq, str):
            raise TypeError("propq must be str or None")
        for name, value in (("transaction_timeout", transaction_timeout),
                            ("max_open_transactions", max_open_transactions),
                            ("max_transactions_per_client", max_transactions_per_client)):
            if value is not None:
                setattr(self, name, value)
        if isinstance(libctx, LibContext):  # its ffi.gc pointer keeps the C context alive
            libctx = libctx.ptr
        self._libctx_c: CData = ffi.NULL if libctx is None else libctx
        self._propq_c: CData = ffi.NULL if propq is None else ffi.new("char[]", propq.encode())
        self._pool_lock = threading.RLock()
        self._idle: list[_Worker] = []
        # transaction ID -> worker, least recently answered first (a dict keeps the order
        # of insertion; a transaction is moved to the end after each response)
        self._open: dict[bytes, _Worker] = {}
        # client -> {transaction ID: worker} of its open transactions, oldest first
        self._clients: dict[object, dict[bytes, _Worker]] = {}
        self._counted = 0  # transactions in self._clients
        self._abandoned = {"expired": 0, "client_limit": 0, "global_limit": 0}
        # every live worker, for configuration changes
        self._all: weakref.WeakSet[_Worker] = weakref.WeakSet()
        # id(worker) -> its custom_ctx handle; keeps the worker alive
        self._handles: dict[int, CData] = {}
        self._options = {"grant_implicit_confirm": False, "accept_unprotected": False,
                         "accept_raverified": False, "send_unprotected_errors": False}
        self.ctx: ServerContext = ServerContext(self, libctx, propq)
        """The template :class:`ServerContext` of the workers."""
        self._checks = ServerChecks()
        self._ra_certs: list[Certificate] = []
        self._ra_ders: frozenset[bytes] = frozenset()
        self._secret_lookup: Callable[[bytes], bytes | None] | None = None

    # -- RFC 9483 ---------------------------------------------------------------------------
    @property
    def checks(self) -> ServerChecks:
        """The header checks run before the server core (see :class:`ServerChecks`); all on
        by default.  Assign a new ``ServerChecks`` or change its attributes."""
        return self._checks

    @checks.setter
    def checks(self, value: ServerChecks) -> None:
        _check_instance(value, ServerChecks, "checks")
        self._checks = value

    @property
    def ra_certs(self) -> list[Certificate]:
        """Certificates of the RAs allowed to act for others: a request whose signature
        OpenSSL validated with one of them has ``request.from_ra`` True (a copy; assign a
        new list to change it)."""
        return list(self._ra_certs)

    @ra_certs.setter
    def ra_certs(self, certs: Iterable[Certificate]) -> None:
        certs = list(certs)
        for cert in certs:
            _check_instance(cert, Certificate, "ra_certs item")
        ders = frozenset(cert.to_der() for cert in certs)
        self._ra_certs, self._ra_ders = certs, ders

    def is_ra(self, cert: Certificate | None) -> bool:
        """``cert`` is one of :attr:`ra_certs`."""
        _check_instance(cert, Certificate, "cert", allow_none=True)
        return cert is not None and cert.to_der() in self._ra_ders

    @property
    def secret_lookup(self) -> Callable[[bytes], bytes | None] | None:
        """Per-client PBM secrets: ``lookup(sender_kid) -> secret or None``.  For a
        MAC-protected request the secret of its senderKID is used to verify it and to
        protect the answer; an unknown senderKID is refused with badMessageCheck before the
        server core sees the request.  None (default): ``server.ctx.secret_value`` for
        all.  Applies to ``process()`` and ``serve_http()``."""
        return self._secret_lookup

    @secret_lookup.setter
    def secret_lookup(self, lookup: Callable[[bytes], bytes | None] | None) -> None:
        if lookup is not None and not callable(lookup):
            raise TypeError("secret_lookup must be callable or None")
        self._secret_lookup = lookup

    # -- handlers (defaults: not supported) -----------------------------------------------
    def handle_cert_request(self, request: Message, cert_req_id: int,
                            crm: CertRequest | None, csr: CSR | None) -> CertResponse:
        """Answer an IR, CR or KUR (``crm`` is the CRMF request, ``csr`` None) or a P10CR
        (``csr`` is the PKCS#10 request, ``crm`` None).  Raise :class:`RejectRequest` to
        answer with an error message."""
        raise NotImplementedError

    def handle_rr(self, request: Message, issuer: Name | None,
                  serial: int | None) -> StatusInfo:
        """Answer a revocation request for the certificate ``issuer``/``serial`` (either is
        None when the request's template lacks it)."""
        raise NotImplementedError

    def handle_genm(self, request: Message,
                    itavs: list[ITAV]) -> list[ITAV] | tuple[ITAV, ...]:
        """Answer a GENM: the ITAVs of the GENP for the ITAVs received."""
        raise NotImplementedError

    def handle_error(self, request: Message, status: StatusInfo | None,
                     error_code: int | None, details: list[str]) -> None:
        """Take note of an error message from a client (``status`` is None when OpenSSL
        passes none)."""
        raise NotImplementedError

    def handle_cert_conf(self, request: Message, cert_req_id: int, cert_hash: bytes,
                         status: StatusInfo | None) -> bool:
        """Take a certificate confirmation; False answers with an error message."""
        raise NotImplementedError

    def handle_poll_req(self, request: Message,
                        cert_req_id: int) -> tuple[Message | None, int]:
        """Answer a poll request: ``(None, check_after)`` while still waiting, or
        ``(original request, 0)`` to hand that request to ``handle_cert_request``."""
        raise NotImplementedError

    def delay(self, request: Message) -> int | None:
        """Delayed delivery (RFC 9483 §3.4, RFC 4210 §5.3.22; OpenSSL 3.3+): override (or
        pass ``Server(delay=fn)``) to answer any request but a pollReq with "waiting".

        Called before the request's handler; return None to answer it now, or the seconds
        the client should wait.  The client then polls; at each pollReq ``delay`` is asked
        again with the saved request, and when it returns None the request goes to its
        handler (``handle_cert_request``, ``handle_rr``, ``handle_genm`` ...) and the
        client gets that answer.  The saved request is dropped when the transaction ends
        or is abandoned.  A server defining it on an OpenSSL older than 3.3 raises
        ``UnsupportedError`` when created.  Certificate requests may also be polled for
        the classic way on every version (``CertResponse.waiting()``)."""
        return None

    def _has(self, name: str) -> bool:
        if name in self.__dict__:
            return True
        return getattr(type(self), name) is not getattr(Server, name)

    def _c_callbacks(self) -> list[CData]:
        names = ("ocmp_srv_cert_request_cb", "ocmp_srv_rr_cb", "ocmp_srv_genm_cb",
                 "ocmp_srv_error_cb", "ocmp_srv_certconf_cb", "ocmp_srv_pollreq_cb")
        has = [self._has(h) for h in HANDLERS]
        has[-1] = has[-1] or self._has("delay")  # a delayed request is polled for
        return [getattr(lib, c) if h else ffi.NULL for h, c in zip(has, names)]

    # -- options --------------------------------------------------------------------------
    def _set_flag(self, worker: _Worker, name: str, value: object) -> None:
        setter = getattr(lib, "OSSL_CMP_SRV_CTX_set_" + name)
        if setter(worker.srv, int(bool(value))) != 1:
            raise_openssl("cannot set %s" % name)

    def _set_option_flag(self, name: str, value: bool) -> None:
        if not isinstance(value, (bool, int)):
            raise TypeError("%s must be bool" % name)
        options = self._options

        def apply(worker: _Worker) -> None:  # the value current when applied: the last wins
            self._set_flag(worker, name, options[name])

        with self._pool_lock:  # a worker created from now on gets the new value
            options[name] = bool(value)
            workers = list(self._all)
        for worker in workers:  # a worker OpenSSL is busy with gets it afterwards
            _configure(worker, apply)

    @property
    def grant_implicit_confirm(self) -> bool:
        """Grant implicit confirmation when a client asks for it."""
        return self._options["grant_implicit_confirm"]

    @grant_implicit_confirm.setter
    def grant_implicit_confirm(self, value: bool) -> None:
        self._set_option_flag("grant_implicit_confirm", value)

    @property
    def accept_unprotected(self) -> bool:
        """Accept requests without (or with invalid) protection."""
        return self._options["accept_unprotected"]

    @accept_unprotected.setter
    def accept_unprotected(self, value: bool) -> None:
        self._set_option_flag("accept_unprotected", value)

    @property
    def accept_raverified(self) -> bool:
        """Accept RAVerified proof-of-possession."""
        return self._options["accept_raverified"]

    @accept_raverified.setter
    def accept_raverified(self, value: bool) -> None:
        self._set_option_flag("accept_raverified", value)

    @property
    def send_unprotected_errors(self) -> bool:
        """Send error messages without protection."""
        return self._options["send_unprotected_errors"]

    @send_unprotected_errors.setter
    def send_unprotected_errors(self, value: bool) -> None:
        self._set_option_flag("send_unprotected_errors", value)

    # -- the pool -------------------------------------------------------------------------
    def _new_worker(self) -> _Worker:
        handle: list[CData] = []
        worker = _Worker(self, handle)
        self._handles[id(worker)] = handle[0]
        self._all.add(worker)
        return worker

    def _take(self, tid: bytes | None) -> _Worker:
        """The worker for transaction ``tid`` (bytes or None), marked busy."""
        with self._pool_lock:
            worker = self._open.get(tid) if tid is not None else None
            if worker is None:
                now = time.monotonic()
                self._expire(now)
                worker = self._idle_worker()
                worker.begin(tid, self.ctx.configured_untrusted)
                worker.last_used = now
                if tid is not None:
                    self._open[tid] = worker
            elif worker.c_thread == get_ident():
                # a handler (or log callback) of this very transaction called process():
                # OpenSSL is inside OSSL_CMP_SRV_process_request on that worker
                raise RuntimeError(
                    "Server.process() called from inside the processing of the same "
                    "transaction (transaction ID %s): OpenSSL is still working on it; "
                    "answer from the handler instead" % cast(bytes, tid).hex())
            worker.busy += 1
            return worker

    def _idle_worker(self) -> _Worker:
        if self._idle:
            worker = self._idle.pop()
            worker.pooled = False
            return worker
        return self._new_worker()

    def _expire(self, now: float) -> None:
        """Abandon the transactions unanswered for more than ``transaction_timeout``."""
        timeout = self.transaction_timeout
        stale = []
        for tid, worker in self._open.items():  # least recently answered first
            if now - worker.last_used <= timeout:
                break
            if not worker.busy:  # a worker with a request in flight is never taken away
                stale.append((tid, worker))
        for tid, worker in stale:
            self._abandon(tid, worker, "expired")

    def _abandon(self, tid: bytes, worker: _Worker, reason: str | None = None) -> None:
        """Take ``worker`` (not busy) away from transaction ``tid``."""
        del self._open[tid]
        for client in worker.clients:
            bucket = self._clients[client]
            del bucket[tid]
            if not bucket:
                del self._clients[client]
        if worker.clients:
            self._counted -= 1
        if reason is not None:
            self._abandoned[reason] += 1
        self._release(worker)

    def _keep_open(self, tid: bytes, worker: _Worker, clients: tuple[object, ...]) -> None:
        """After a response that leaves transaction ``tid`` open: count it under its
        client's keys (the request was accepted by the server core, so its sender is
        authenticated as far as the protection goes), then apply the limits."""
        worker.last_used = time.monotonic()
        del self._open[tid]
        self._open[tid] = worker  # most recently answered: last
        if not worker.clients:  # its first response that leaves it open: counted once
            worker.clients = clients
            self._counted += 1
        for client in worker.clients:
            bucket = self._clients.get(client)
            if bucket is None:
                bucket = self._clients[client] = {}
            bucket.pop(tid, None)
            bucket[tid] = worker  # most recently answered: last
        for client in worker.clients:
            held = self._clients.get(client)  # (None if abandoning emptied it meanwhile)
            if held is None:
                continue
            excess = len(held) - self.max_transactions_per_client
            if excess > 0:  # the key's own oldest go, never another key's
                victims: list[tuple[bytes, _Worker]] = []
                for victim_tid, victim in held.items():
                    if not victim.busy and victim is not worker:
                        victims.append((victim_tid, victim))
                        if len(victims) == excess:
                            break
                for victim_tid, victim in victims:
                    self._abandon(victim_tid, victim, "client_limit")
        while self._counted > self.max_open_transactions:
            oldest = self._global_victim(worker)
            if oldest is None:
                break  # in flight: the limit applies again when they are answered
            self._abandon(*oldest, "global_limit")

    def _global_victim(self, answered: _Worker) -> tuple[bytes, _Worker] | None:
        """The oldest transaction among the keys (senders, connections) holding the most
        open ones, except one with a request in flight and the one just ``answered`` (which
        is the newest)."""
        most = max(len(bucket) for bucket in self._clients.values())
        best: tuple[bytes, _Worker] | None = None
        for bucket in self._clients.values():
            if len(bucket) != most:
                continue
            for tid, worker in bucket.items():  # oldest first
                if not worker.busy and worker is not answered:
                    if best is None or worker.last_used < best[1].last_used:
                        best = (tid, worker)
                    break
        return best

    def _release(self, worker: _Worker) -> None:
        """Back to the idle list (once), or dropped if it was left in the middle of
        polling or lacks a configuration change.  Only called for a worker with no request
        in flight."""
        worker.tid = None
        worker.clients = ()
        if worker.polling or worker.misconfigured:
            # the SRV_CTX would insist on a pollReq: drop it (freed with its last reference,
            # after C is done with it: no request is in flight)
            self._all.discard(worker)
            self._handles.pop(id(worker), None)
        elif not worker.pooled:
            worker.pooled = True
            self._idle.append(worker)

    def _give_back(self, worker: _Worker, ended: bool, in_flight: bool = True,
                   clients: tuple[object, ...] = ()) -> None:
        with self._pool_lock:
            if in_flight:
                worker.busy -= 1
            if worker.busy:
                return  # another request of the transaction is still on it
            tid = worker.tid
            if tid is not None:
                if self._open.get(tid) is not worker:
                    return  # already expired and released
                if ended:
                    self._abandon(tid, worker)
                else:
                    self._keep_open(tid, worker, clients)
                return
            self._release(worker)

    @property
    def open_transactions(self) -> int:
        """Transactions currently holding a worker (for monitoring and tests)."""
        return len(self._open)

    @property
    def pool_size(self) -> int:
        """Live workers (SRV_CTXs), idle or busy."""
        return len(self._all)

    def transactions_by_client(self) -> dict[object, int]:
        """Open transactions per key: ``{key: count}``.  Each open transaction is counted
        under ``(sender, sender_kid)`` of its PKIHeader (the sender GeneralName as DER, the
        senderKID bytes or None) and, when it came over HTTP, under the
        :class:`Connection` it came on."""
        with self._pool_lock:
            return {client: len(bucket) for client, bucket in self._clients.items()}

    def pool_stats(self) -> dict[str, int]:
        """Counters for monitoring: ``open`` (transactions holding a worker, requests in
        flight included), ``counted`` (open between requests, what the limits apply to),
        ``clients``, ``workers``, ``idle``, and the transactions abandoned so far:
        ``expired`` (transaction_timeout), ``client_limit``, ``global_limit``."""
        with self._pool_lock:
            stats = {"open": len(self._open), "counted": self._counted,
                     "clients": len(self._clients), "workers": len(self._all),
                     "idle": len(self._idle)}
            stats.update(self._abandoned)
            return stats

    # -- serving --------------------------------------------------------------------------
    def _process(self, request: Message,
                 client: object = None) -> tuple[Message, BaseException | None]:
        """(response Message, exception raised by a handler or None).  ``client`` (hashable:
        the HTTP front ends pass the peer address) is the connection the request came on, a
        second key the pool limits count its transaction under, beside the sender and
        senderKID of its header."""
        _check_instance(request, Message, "request")
        if client is not None:
            hash(client)  # TypeError now rather than inside the pool
        fields = _header_fields(request)
        protection: _Protection | None = None
        if fields is not None:
            screened = self._screen(request, fields)
            if isinstance(screened, Message):
                return screened, None  # refused before the core: no worker involved
            protection = screened
        worker = self._take(request.transaction_id)
        ended = True
        clients: tuple[object, ...] = ()
        try:
            boundary = boundary_of(worker.ctx)
            with boundary.lock:
                boundary.begin()  # the start of the operation: what is queued is its own
                # The core's account of an error response it built (a handler's failure, a
                # refused request) is carried by the response: probed, not reported.
                with probe():
                    _enter_c(worker)  # (applies the queued configuration changes first)
                    worker.rejection = None
                    try:
                        if protection is not None:  # after the queued changes: wins
                            protection.apply(worker.ctx.ptr)
                        with boundary.running():
                            rsp = lib.OSSL_CMP_SRV_process_request(worker.srv, request.ptr)
                    finally:
                        _leave_c(worker)  # and apply the changes handlers made meanwhile
                        if protection is not None:
                            self._restore_protection(worker)
                    exc = boundary.take_exception()
                    if rsp == ffi.NULL:
                        raise_openssl("the server could not produce a response")
                response = Message._owned(rsp)
                body = lib.OSSL_CMP_MSG_get_bodytype(rsp)
                if body in _CERT_RESPONSES:
                    # no certConf follows an implicitly confirmed or a refused certificate
                    ended = worker.refused or lib.OSSL_CMP_CTX_get_option(
                        worker.ctx.ptr, Option.IMPLICIT_CONFIRM) == 1
                    if not ended and fields is not None:
                        worker.credentials = _credentials(fields)
                elif body == BodyType.ERROR and worker.delayed is not None:
                    ended = False  # "waiting" (delayed delivery): the client polls
                else:
                    ended = body in _CLOSING
                    if body == BodyType.ERROR:
                        response = _server_errors.precise(
                            self, response, worker.rejection,
                            None if protection is None else protection.adjust)
            if not ended and not worker.clients:
                sender = _sender_identity(request) if fields is None else \
                    (fields["sender"], fields.get("sender_kid"))
                clients = (sender,) if client is None else (sender, Connection(client))
        finally:
            self._give_back(worker, ended, clients=clients)
        return response, exc

    def _screen(self, request: Message, fields: dict[str, Any]) -> Message | _Protection | None:
        """The checks the server core does not make (RFC 9483 §3.5), before it sees the
        request: the error message refusing it, or how its answer is to be protected."""
        checks = self._checks
        tid = fields.get("transaction_id")
        body = BodyType(lib.OSSL_CMP_MSG_get_bodytype(request.ptr))
        # a racy read is enough: the pool decides under its lock, this only refuses early
        open_worker = None if tid is None else self._open.get(tid)
        if open_worker is not None and open_worker.c_thread == get_ident():
            return None  # a handler re-entering its own transaction: _take refuses it
        protection = None
        try:
            check_request(checks, fields, body, open_worker is not None)
            if body in _FOLLOW_UPS and tid is not None and open_worker is None:
                # the second message of a transaction this process does not hold: another
                # worker process (or an expired one) has it, and OpenSSL cannot take a
                # transaction over half-way (docs/scale.md); say so rather than the core's
                # bare "unexpected pkibody"
                raise CheckFailure(FailInfo.BAD_REQUEST, _FOLLOW_UPS[body])
            alg = fields.get("protection_alg")
            oid = fields.get("protection_oid")
            if oid == _pbm.PBMAC1_OID:
                raise CheckFailure(FailInfo.BAD_ALG, "PBMAC1 is not supported (RFC 9481 6.1.2)")
            if oid == _pbm.PBM_OID:
                secret = None
                lookup = self._secret_lookup
                if lookup is not None:
                    secret = _looked_up(lookup, fields.get("sender_kid"))
                    if secret is None:
                        raise CheckFailure(FailInfo.BAD_MESSAGE_CHECK,
                                           "unknown senderKID for MAC-based protection")
                protection = _Protection(secret, _pbm.response_nids(cast(bytes, alg)))
            if body == BodyType.CERTCONF:
                check_cert_conf(checks, fields["pvno"], request.to_der())
                if checks.cert_conf_same_credentials and open_worker is not None:
                    expected = open_worker.credentials
                    if expected is not None and expected != _credentials(fields):
                        raise CheckFailure(FailInfo.BAD_MESSAGE_CHECK,
                                           "certConf not protected with the credentials of "
                                           "the request it confirms (RFC 9483 4.1.1)")
        except CheckFailure as failure:
            refusal = _server_errors.refusal(
                self, fields, failure.fail_info, failure.text,
                None if protection is None else protection.adjust)
            if refusal is not None:
                return refusal
        return protection

    def _restore_protection(self, worker: _Worker) -> None:
        """Give the worker back the template's PBM secret and options after a request
        whose answer needed its own (no C call is in progress on it)."""
        ptr = worker.ctx.ptr
        recorded = self.ctx._recorded.get(("set", "secret_value"))
        secret = recorded[0] if recorded else None
        if isinstance(secret, str):
            secret = secret.encode("utf-8")
        template = self.ctx.ptr
        with probe():  # a failure (only out of memory) retires the worker: no error to report
            ok = lib.OSSL_CMP_CTX_set1_secretValue(
                ptr, ffi.NULL if secret is None else secret,
                0 if secret is None else len(secret))
            for option in (Option.OWF_ALGNID, Option.MAC_ALGNID):
                ok &= lib.OSSL_CMP_CTX_set_option(ptr, option,
                                                  lib.OSSL_CMP_CTX_get_option(template, option))
        if ok != 1:  # the worker is not reused
            worker.misconfigured = True

    def process(self, request: Message) -> Message:
        """Answer one request in-process.  An exception raised by a handler is re-raised
        here (after the error response was built); use ``serve_http`` to keep serving.
        Called from a handler for the transaction that handler is answering, it raises
        RuntimeError (OpenSSL is still working on that transaction)."""
        response, exc = self._process(request)
        if exc is not None:
            raise exc
        return response

    def attach(self, client: Context) -> None:
        """Wire ``client`` to this server in-process through the C fast path
        (``OSSL_CMP_CTX_server_perform``): no Python between client and server core.  The
        client gets a worker of its own until it is closed or re-attached."""
        _check_instance(client, Context, "client")
        if isinstance(client, ServerContext):
            raise TypeError("a server's template context cannot be a client")
        client_boundary = boundary_of(client)
        with client_boundary.lock:
            if client_boundary.depth:  # only this thread can be inside a call on it
                raise RuntimeError("cannot attach a client from inside one of its own calls "
                                   "(OpenSSL is using its current transfer)")
            with self._pool_lock:
                worker = self._idle_worker()
                worker.begin(None, self.ctx.configured_untrusted)
            lease = _Lease(self, worker)
            client.attach_srv_ctx(worker.srv, owner=lease)

    def serve_http(self, host: str = "127.0.0.1", port: int = 0,
                   **options: Unpack[_ServeOptions]) -> HTTPServing:
        """Serve CMP over HTTP (RFC 6712) in a background thread; use as a context manager.
        ``.url`` is the address to give clients (``openssl cmp -server …``).  Keyword
        ``options`` (``tls=``, the connection limits) go to
        :class:`~openssl_cmp.http.HTTPServing`."""
        # On demand, not a cycle: http's stdlib (http.server, http.client, email) would add
        # ~15 ms to every ``import openssl_cmp`` for a feature most users never start.
        from openssl_cmp.http import HTTPServing

        return HTTPServing(self, host, port, **options)

    def asgi_app(self, *, max_request: int = 1 << 20,
                 max_in_flight: int = 16) -> ASGIApp:
        """This server as an ASGI 3 application (uvicorn, hypercorn, granian; mountable in
        Starlette, FastAPI, Django): the rules and answers of ``serve_http``, the crypto
        work on at most ``max_in_flight`` threads, never on the event loop.  See
        :class:`~openssl_cmp.asgi.ASGIApp`."""
        from openssl_cmp.asgi import ASGIApp  # on demand, as serve_http

        return ASGIApp(self, max_request=max_request, max_in_flight=max_in_flight)

    def wsgi_app(self, *, max_request: int = 1 << 20) -> WSGIApp:
        """This server as a WSGI application (gunicorn, uWSGI, mod_wsgi, wsgiref; Django,
        Flask): the rules and answers of ``serve_http``.  See
        :class:`~openssl_cmp.wsgi.WSGIApp`."""
        from openssl_cmp.wsgi import WSGIApp  # on demand, as serve_http

        return WSGIApp(self, max_request=max_request)

    def __repr__(self) -> str:
        return "<%s workers=%d open=%d>" % (type(self).__name__, self.pool_size,
                                             self.open_transactions)


# --- trampolines ------------------------------------------------------------------------

def _fail(exc: BaseException, handler: str) -> None:
    """Make the server core answer with an error message, and hand a real exception to
    the public call running on this thread (the client's exec_* when attached, or
    Server.process)."""
    text = str(exc) if isinstance(exc, RejectRequest) else \
        "%s raised %s: %s" % (handler, type(exc).__name__, exc)
    lib.ERR_new()
    lib.ERR_set_debug(b"openssl_cmp/server.py", 0, handler.encode())
    lib.ERR_set_error(lib.ERR_LIB_CMP, lib.CMP_R_ERROR_PROCESSING_MESSAGE, b"%s",
                      ffi.new("char[]", text.encode("utf-8", "replace")))
    if isinstance(exc, RejectRequest):
        return
    state = callbacks.current_state()
    if state is not None:
        state.store(exc)
    else:
        logger.error("exception in %s", handler, exc_info=exc)


def _trampoline(handler: str,
                failure: object) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The frame of every server callback: find the worker through custom_ctx, give the
    request to the body as a view (valid during the call only), and turn any exception into
    an error response from the core plus a re-raise in the call that drove the server."""
    def wrap(body: Callable[..., Any]) -> Callable[..., Any]:
        def trampoline(srv_ctx: CData, req: CData, *args: Any) -> Any:
            worker = _worker_of(srv_ctx)
            request: _Request | None = _Request._view(req)
            kept = lend(request)
            try:
                server = worker.server_ref()
                _annotate(cast(_Request, request), worker, server)
                return body(worker, server, request, *args)
            except BaseException as exc:  # noqa: BLE001 - re-raised by the driving call
                worker.rejection = exc.fail_info if isinstance(exc, RejectRequest) \
                    else FailInfo.BAD_REQUEST
                _fail(exc, handler)
                return failure
            finally:
                request = None
                end_view(kept)  # a request the handler kept becomes its own copy
        trampoline.__name__ = body.__name__
        return trampoline
    return wrap


_HAS_VALIDATED_CERT = has("OSSL_CMP_CTX_get0_validatedSrvCert")


def _annotate(request: _Request, worker: _Worker, server: Server | None) -> None:
    """Tell the request view who signed it, as the server core validated it."""
    signer = None
    if _HAS_VALIDATED_CERT:
        # the core validated the request just before calling back: this is its signer
        # (reinit at each transaction start clears it, so it is never another client's)
        ptr = lib.OSSL_CMP_CTX_get0_validatedSrvCert(worker.ctx.ptr)
        if ptr != ffi.NULL:
            signer = Certificate._borrowed(ptr)
    elif server is not None:
        # OpenSSL 3.0/3.1 keep it to themselves: replay the core's search (see _signer)
        if worker.scratch is None:
            worker.scratch = _signer.Scratch(server._libctx_c, server._propq_c)
        signer = _signer.find(request, worker.ctx.ptr, worker.scratch, worker.signer)
        if signer is not None:
            worker.signer = signer  # the core's cache for the next message, mirrored
    # Message's slot, read by Message.validated_signer (message.py declares no annotation)
    object.__setattr__(request, "_validated_signer", signer)
    request._from_ra = server is not None and signer is not None and server.is_ra(signer)


def _stack_of(kind: str, items: list[Certificate] | list[ITAV]) -> CData:
    """A new ``STACK_OF(kind)`` holding our own references to ``items`` (the core frees
    it and them)."""
    push = getattr(lib, "sk_%s_push" % kind)
    free_item: Any = getattr(lib, items[0]._free) if items else None
    sk = getattr(lib, "sk_%s_new_null" % kind)()
    if sk == ffi.NULL:
        raise_openssl("cannot allocate a %s stack" % kind)
    for item in items:
        ref = item._new_reference()
        if push(sk, ref) <= 0:
            free_item(ref)
            getattr(lib, "sk_%s_pop_free" % kind)(sk, ffi.addressof(lib, item._free))
            raise_openssl("cannot build a %s stack" % kind)
    return sk


@ffi.def_extern(name="ocmp_srv_cert_request_cb")
@_trampoline("handle_cert_request", ffi.NULL)
def _srv_cert_request(worker: _Worker, server: Server, request: Message, cert_req_id: int,
                      crm: CData, p10cr: CData, cert_out: CData, chain_out: CData,
                      ca_pubs_out: CData) -> CData:
    signer = request.validated_signer
    worker.signer_der = None if signer is None else signer.to_der()
    crm_v = None if crm == ffi.NULL else CertRequest._view(crm)
    csr_v = None if p10cr == ffi.NULL else CSR._view(p10cr)
    crm_kept, csr_kept = lend(crm_v), lend(csr_v)
    try:
        result = server.handle_cert_request(request, cert_req_id, crm_v, csr_v)
    finally:
        crm_v = csr_v = None  # only what the handler kept holds the views now
        end_view(crm_kept)
        end_view(csr_kept)
    if not isinstance(result, CertResponse):
        raise TypeError("handle_cert_request must return a CertResponse, not %s"
                        % type(result).__name__)
    # The core frees the outputs, on success and on failure alike: each is stored as soon
    # as it exists, so nothing leaks if a later step raises; the status goes last.
    if result.cert is not None:
        cert_out[0] = result.cert._new_reference()
    if result.private_key is not None:
        _give_central_key(worker, crm, p10cr, result.private_key)
    if result.chain:
        chain_out[0] = _stack_of("X509", result.chain)
    if result.ca_pubs:
        ca_pubs_out[0] = _stack_of("X509", result.ca_pubs)
    si = result.status._to_c()
    status = result.status.status
    worker.polling = status == PKIStatus.WAITING
    worker.refused = status not in (PKIStatus.ACCEPTED, PKIStatus.GRANTED_WITH_MODS,
                                    PKIStatus.WAITING)
    return si


def _give_central_key(worker: _Worker, crm: CData, p10cr: CData, key: PrivateKey) -> None:
    """Hand a centrally generated key to the 3.5 server core: process_cert_request takes
    the inner context's private newPkey after this callback, encrypts it for the client
    (signed by ``server.ctx.cert``/``pkey``) and clears newPkey whatever happens."""
    require("OSSL_CRMF_MSG_centralkeygen_requested",
            "answering central key generation (CertResponse private_key)")
    with probe():  # "not requested" (0) or "cannot tell" (-1) is an answer, not an error
        requested = lib.OSSL_CRMF_MSG_centralkeygen_requested(crm, p10cr)
    if requested != 1:
        raise ValueError("CertResponse.private_key for a request that does not ask for "
                         "central key generation")
    ref = key._new_reference()
    if lib.OSSL_CMP_CTX_set0_newPkey(worker.ctx.ptr, 1, ref) != 1:  # takes it on success
        lib.EVP_PKEY_free(ref)
        raise_openssl("cannot hand the generated key to the server core")


@ffi.def_extern(name="ocmp_srv_rr_cb")
@_trampoline("handle_rr", ffi.NULL)
def _srv_rr(worker: _Worker, server: Server, request: Message, issuer: CData,
            serial: CData) -> CData:
    # OpenSSL 3.0 passes what the RevDetails template holds: either may be absent (NULL)
    name = None if issuer == ffi.NULL else Name._copied(ffi.cast("X509_NAME *", issuer))
    number = None if serial == ffi.NULL else asn1_integer_to_int(serial)
    result = server.handle_rr(request, name, number)
    if not isinstance(result, StatusInfo):
        raise TypeError("handle_rr must return a StatusInfo, not %s" % type(result).__name__)
    return result._to_c()


@ffi.def_extern(name="ocmp_srv_genm_cb")
@_trampoline("handle_genm", 0)
def _srv_genm(worker: _Worker, server: Server, request: Message, in_itavs: CData,
              out: CData) -> int:
    result = server.handle_genm(request, itavs_from_stack(in_itavs, False))
    if not isinstance(result, (list, tuple)) or not all(isinstance(i, ITAV) for i in result):
        raise TypeError("handle_genm must return a list of ITAV")
    out[0] = _stack_of("OSSL_CMP_ITAV", list(result))
    return 1


def _utf8_list(sk: CData) -> list[str]:
    if sk == ffi.NULL:
        return []
    return [asn1_string_bytes(lib.sk_ASN1_UTF8STRING_value(sk, i)).decode("utf-8", "replace")
            for i in range(lib.sk_ASN1_UTF8STRING_num(sk))]


@ffi.def_extern(name="ocmp_srv_error_cb")
@_trampoline("handle_error", None)
def _srv_error(worker: _Worker, server: Server, request: Message, status_info: CData,
               error_code: CData, details: CData) -> None:
    status = StatusInfo._from_c(status_info) if status_info != ffi.NULL else None
    code = None if error_code == ffi.NULL else asn1_integer_to_int(error_code)
    server.handle_error(request, status, code, _utf8_list(details))


@ffi.def_extern(name="ocmp_srv_certconf_cb")
@_trampoline("handle_cert_conf", 0)
def _srv_cert_conf(worker: _Worker, server: Server, request: Message, cert_req_id: int,
                   cert_hash: CData, si: CData) -> int:
    if server.checks.cert_conf_same_credentials and worker.signer_der is not None:
        signer = request.validated_signer
        if signer is None or signer.to_der() != worker.signer_der:
            raise RejectRequest("certConf not signed by the signer of the request it "
                                "confirms (RFC 9483 4.1.1)",
                                fail_info=FailInfo.BAD_MESSAGE_CHECK)
    status = StatusInfo._from_c(si) if si != ffi.NULL else None
    digest = b"" if cert_hash == ffi.NULL else asn1_string_bytes(cert_hash)
    ok = server.handle_cert_conf(request, cert_req_id, digest, status)
    if not isinstance(ok, bool):
        raise TypeError("handle_cert_conf must return bool, not %s" % type(ok).__name__)
    if not ok:
        raise RejectRequest("certificate confirmation not accepted")
    return 1


@ffi.def_extern(name="ocmp_srv_pollreq_cb")
@_trampoline("handle_poll_req", 0)
def _srv_poll_req(worker: _Worker, server: Server, request: Message, cert_req_id: int,
                  cert_req_out: CData, check_after_out: CData) -> int:
    cert_req_out[0] = ffi.NULL
    if worker.delayed is not None:  # delayed delivery: ask again about the saved request
        later = _delay_of(server, worker.delayed)
        if later is not None:
            check_after_out[0] = later
            return 1
        saved, worker.delayed = worker.delayed, None
        cert_req_out[0] = saved._new_reference()  # the core frees it
        worker.polling = False
        return 1
    result = server.handle_poll_req(request, cert_req_id)
    if not (isinstance(result, tuple) and len(result) == 2):
        raise TypeError("handle_poll_req must return (Message or None, check_after)")
    original, check_after = result
    _check_instance(original, Message, "handle_poll_req message", allow_none=True)
    if isinstance(check_after, bool) or not isinstance(check_after, int) or check_after < 0:
        raise ValueError("check_after must be an int >= 0")
    if original is not None:
        cert_req_out[0] = original._new_reference()  # the core frees it
        worker.polling = False
    else:
        cert_req_out[0] = ffi.NULL
    check_after_out[0] = check_after
    return 1


def _delay_of(server: Server, request: Message) -> int | None:
    """``server.delay(request)``, validated."""
    later = server.delay(request)
    if later is not None and (isinstance(later, bool) or not isinstance(later, int)
                              or later < 0):
        raise ValueError("delay() must return None or an int >= 0, not %r" % (later,))
    return later


if has("ocmp_srv_delayed_delivery_cb"):  # OpenSSL 3.3+
    @ffi.def_extern(name="ocmp_srv_delayed_delivery_cb")
    @_trampoline("delay", -1)  # -1: the core answers systemFailure
    def _srv_delayed_delivery(worker: _Worker, server: Server, request: Message) -> int:
        if _delay_of(server, request) is None:
            return 0
        worker.delayed = request.copy()  # handed back to the core at the last pollReq
        worker.polling = True
        return 1

    @ffi.def_extern(name="ocmp_srv_clean_transaction_cb")
    def _srv_clean_transaction(srv_ctx: CData, transaction_id: CData) -> int:
        """The core starts or ends a transaction: drop the request it kept waiting."""
        try:
            _worker_of(srv_ctx).delayed = None
        except BaseException:  # noqa: BLE001 - nothing to fail here; never raise into C
            logger.exception("clean_transaction")
        return 1
