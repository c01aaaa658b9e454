"""``Server``: a CMP server over ``OSSL_CMP_SRV_CTX`` with its handlers in Python.

Concurrency design.  An ``OSSL_CMP_SRV_CTX`` keeps one open transaction (transaction ID,
nonces, polling state live in it and its inner context).  A Server therefore keeps a pool of
*workers* (one SRV_CTX each), all configured alike:

* ``process()`` / ``serve_http()``: a request is routed to the worker that holds its
  transaction ID, or a new transaction takes an idle (or new) worker.  The worker goes back
  to the pool when the response closes the transaction (PKICONF, RP, GENP, ERROR, or an
  IP/CP/KUP with implicit confirmation), when its transaction is older than
  ``transaction_timeout`` seconds and a worker is needed, or when more than
  ``max_open_transactions`` are open (the oldest is abandoned).  A worker left in the middle
  of polling is discarded, never reused.  Requests of different transactions run in
  parallel; requests of one transaction run one at a time.
* ``attach(client)``: the client gets a worker of its own for as long as it stays attached
  (C fast path: ``OSSL_CMP_CTX_server_perform``, no Python between client and server core).

Every worker starts with an empty ``untrusted`` cache for each transaction: on OpenSSL 3.0
the inner context would otherwise collect every client's extraCerts without bound.

``server.ctx`` is a template :class:`ServerContext`: what is set on it (credentials, trust,
options) is validated at once and replayed onto every worker, present and future.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from typing import TYPE_CHECKING, Callable, Iterable

from openssl_cmp import callbacks
from openssl_cmp._ownership import end_view
from openssl_cmp.binding import ffi, lib
from openssl_cmp._bio import check_instance as _check_instance
from openssl_cmp.context import Context
from openssl_cmp.enums import BodyType, Option, PKIStatus
from openssl_cmp.errors import OpenSSLError, drain
from openssl_cmp.message import ITAV, CertRequest, Message, StatusInfo
from openssl_cmp.objects import CSR, Certificate, Name, _asn1_integer_to_int, asn1_string_bytes

__all__ = ["Server", "ServerContext", "CertResponse", "RejectRequest"]

if TYPE_CHECKING:  # http imports message, which imports this module lazily
    from openssl_cmp.http import HTTPServing

logger = logging.getLogger("openssl_cmp.server")

HANDLERS = ("handle_cert_request", "handle_rr", "handle_genm", "handle_error",
            "handle_cert_conf", "handle_poll_req")
_CLOSING = (BodyType.PKICONF, BodyType.RP, BodyType.GENP, BodyType.ERROR)
_CERT_RESPONSES = (BodyType.IP, BodyType.CP, BodyType.KUP)


class RejectRequest(Exception):
    """Raise from a handler to answer with a CMP error message carrying ``text``.

    Unlike any other exception it is not re-raised to the caller: it is the handler's way of
    saying no (the client sees ``CMPError`` with the text in its error details)."""


class CertResponse:
    """What ``handle_cert_request`` returns: a status and, when accepted, the certificate
    (plus optional chain and CA certificates)."""

    __slots__ = ("status", "cert", "chain", "ca_pubs")

    def __init__(self, status: StatusInfo, cert: Certificate | None = None,
                 chain: Iterable[Certificate] = (), ca_pubs: Iterable[Certificate] = ()):
        _check_instance(status, StatusInfo, "status")
        _check_instance(cert, Certificate, "cert", allow_none=True)
        self.chain = list(chain)
        self.ca_pubs = list(ca_pubs)
        for c in self.chain + self.ca_pubs:
            _check_instance(c, Certificate, "chain/ca_pubs certificate")
        if cert is None and status.status in (PKIStatus.ACCEPTED, PKIStatus.GRANTED_WITH_MODS):
            raise ValueError("an accepted CertResponse needs a certificate")
        self.status = status
        self.cert = cert

    @classmethod
    def accepted(cls, cert, chain=(), ca_pubs=()) -> "CertResponse":
        return cls(StatusInfo(PKIStatus.ACCEPTED), cert, chain, ca_pubs)

    @classmethod
    def rejected(cls, fail_info=0, text=None) -> "CertResponse":
        return cls(StatusInfo(PKIStatus.REJECTION, fail_info, text))

    @classmethod
    def waiting(cls, text=None) -> "CertResponse":
        return cls(StatusInfo(PKIStatus.WAITING, 0, text))

    def __repr__(self):
        return "CertResponse(%r, cert=%r)" % (self.status, self.cert)


class ServerContext(Context):
    """``server.ctx``: a Context whose settings are recorded and applied to every worker
    of its Server.  It is never used for a transaction itself.  (The PBM secret is kept in
    the recording, in memory, so that new workers can be configured.)"""

    __slots__ = ("_recorded", "_server_ref")
    _METHODS = ("set_option", "push_geninfo_itav", "reset_geninfo_itavs")

    def __init__(self, server, libctx=None, propq=None):
        super().__init__(libctx, propq)
        object.__setattr__(self, "_recorded", {})
        object.__setattr__(self, "_server_ref", weakref.ref(server))

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)  # the property validates and sets it here
        if not name.startswith("_"):
            self._record(("set", name), (value,))

    def set_option(self, option, value):
        super().set_option(option, value)
        self._record(("call", "set_option", int(option)), (option, value))

    def push_geninfo_itav(self, itav):
        super().push_geninfo_itav(itav)
        key = ("call", "push_geninfo_itav", len(self._recorded))
        self._record(key, (itav.copy(),))

    def reset_geninfo_itavs(self):
        super().reset_geninfo_itavs()
        for key in [k for k in self._recorded if k[:2] == ("call", "push_geninfo_itav")]:
            del self._recorded[key]
        self._record(("call", "reset_geninfo_itavs"), ())

    def _record(self, key, args):
        self._recorded.pop(key, None)  # re-insert: replay keeps the order of last setting
        self._recorded[key] = args
        server = self._server_ref()
        if server is not None:
            server._apply_everywhere(lambda ctx: _apply(ctx, key, args))

    def _replay_onto(self, ctx: Context) -> None:
        for key, args in list(self._recorded.items()):
            _apply(ctx, key, args)

    @property
    def configured_untrusted(self) -> list:
        args = self._recorded.get(("set", "untrusted"))
        return list(args[0]) if args else []


def _apply(ctx, key, args):
    if key[0] == "set":
        setattr(ctx, key[1], args[0])
    else:
        getattr(Context, key[1])(ctx, *args)


class _Worker:
    """One OSSL_CMP_SRV_CTX of a Server's pool.  Its custom_ctx is a handle to itself."""

    __slots__ = ("server_ref", "srv", "ctx", "tid", "last_used", "polling", "refused",
                 "busy", "pooled", "__weakref__")

    def __init__(self, server: "Server", handle):
        """``handle`` is ``ffi.new_handle(self)``'s slot: the Server keeps the handle (and so
        this worker) alive; the worker does not point at its own handle (no cycle)."""
        self.server_ref = weakref.ref(server)
        ptr = lib.OSSL_CMP_SRV_CTX_new(server._libctx_c, server._propq_c)
        if ptr == ffi.NULL:
            raise OpenSSLError("cannot create OSSL_CMP_SRV_CTX", drain())
        self.srv = ffi.gc(ptr, lib.OSSL_CMP_SRV_CTX_free)
        handle.append(ffi.new_handle(self))
        if lib.OSSL_CMP_SRV_CTX_init(ptr, handle[0], *server._c_callbacks()) != 1:
            raise OpenSSLError("cannot initialise OSSL_CMP_SRV_CTX", drain())
        # the inner context lives as long as the SRV_CTX, which the wrapper keeps alive
        self.ctx = Context._wrap_borrowed(lib.OSSL_CMP_SRV_CTX_get0_cmp_ctx(ptr), self.srv)
        self.tid = None
        self.last_used = time.monotonic()
        self.polling = False
        self.refused = False  # the last certificate response refused: no certConf follows
        self.busy = 0  # requests in flight on it (never evicted or reset while busy)
        self.pooled = False  # in the idle list (guards against releasing it twice)
        server.ctx._replay_onto(self.ctx)
        for name, value in server._options.items():
            server._set_flag(self, name, value)

    def begin(self, tid, untrusted) -> None:
        """Prepare for a new transaction: reinit the inner context (transaction ID, nonces,
        and the cached validated sender certificate), then drop the extraCerts the last
        transaction collected.  The order matters: OpenSSL's check_msg_find_cert frees a
        cached sender certificate that no longer verifies and then reads it once more, which
        is only safe while the untrusted cache still holds a reference to it."""
        with self.ctx._lock:  # an attached client may still be finishing on it
            self.tid = tid
            self.refused = False
            if lib.OSSL_CMP_CTX_reinit(self.ctx.ptr) != 1:
                raise OpenSSLError("cannot reset a server context", drain())
            self.ctx._retired.clear()  # reinit dropped the cached sender certificate
            self.ctx.untrusted = untrusted


class _Lease:
    """A worker lent to one attached client; returned to the pool when the client lets go
    (close, re-attach, garbage collection)."""

    __slots__ = ("server", "worker", "lock")

    def __init__(self, server, worker):
        self.server = server
        self.worker = worker
        # the client takes this lock too while it drives C: the server core runs on the
        # worker inside the client's call (configuration changes wait for it)
        self.lock = worker.ctx._lock

    def __del__(self):
        try:
            self.server._give_back(self.worker, ended=True, in_flight=False)
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def __repr__(self):
        return "<attached to %r>" % (self.server,)


def _worker_of(srv_ctx) -> _Worker:
    return ffi.from_handle(lib.OSSL_CMP_SRV_CTX_get0_custom_ctx(srv_ctx))


class Server:
    """A CMP server.  Subclass and override the ``handle_*`` methods, or pass callables of
    the same names.  Handlers that are not provided make the server answer that request
    type with an error (``unsupported PKIBody``)."""

    transaction_timeout = 300.0  # seconds an unfinished transaction keeps its worker
    max_open_transactions = 1024

    def __init__(self, libctx=None, propq: str | None = None, **handlers: Callable):
        for name, fn in handlers.items():
            if name not in HANDLERS:
                raise TypeError("unknown handler %r (expected one of %s)"
                                % (name, ", ".join(HANDLERS)))
            if not callable(fn):
                raise TypeError("%s must be callable" % name)
            setattr(self, name, fn)
        if propq is not None and not isinstance(propq, str):
            raise TypeError("propq must be str or None")
        self._libctx_c = ffi.NULL if libctx is None else libctx
        self._propq_c = ffi.NULL if propq is None else ffi.new("char[]", propq.encode())
        self._pool_lock = threading.RLock()
        self._idle: list[_Worker] = []
        self._open: dict[bytes, _Worker] = {}  # transaction ID -> worker
        self._all = weakref.WeakSet()  # every live worker, for configuration changes
        self._handles = {}  # id(worker) -> its custom_ctx handle; keeps the worker alive
        self._options = {"grant_implicit_confirm": False, "accept_unprotected": False,
                         "accept_raverified": False, "send_unprotected_errors": False}
        self.ctx = ServerContext(self, libctx, propq)

    # -- handlers (defaults: not supported) -----------------------------------------------
    def handle_cert_request(self, request: Message, cert_req_id: int,
                            crm: CertRequest | None, csr: CSR | None) -> CertResponse:
        raise NotImplementedError

    def handle_rr(self, request: Message, issuer: Name | None,
                  serial: int | None) -> StatusInfo:
        raise NotImplementedError

    def handle_genm(self, request: Message, itavs: list) -> list:
        raise NotImplementedError

    def handle_error(self, request: Message, status: StatusInfo, error_code: int | None,
                     details: list) -> None:
        raise NotImplementedError

    def handle_cert_conf(self, request: Message, cert_req_id: int, cert_hash: bytes,
                         status: StatusInfo | None) -> bool:
        raise NotImplementedError

    def handle_poll_req(self, request: Message, cert_req_id: int):
        raise NotImplementedError

    def _has(self, name) -> bool:
        if name in self.__dict__:
            return True
        return getattr(type(self), name) is not getattr(Server, name)

    def _c_callbacks(self):
        names = ("ocmp_srv_cert_request_cb", "ocmp_srv_rr_cb", "ocmp_srv_genm_cb",
                 "ocmp_srv_error_cb", "ocmp_srv_certconf_cb", "ocmp_srv_pollreq_cb")
        return [getattr(lib, c) if self._has(h) else ffi.NULL for h, c in zip(HANDLERS, names)]

    # -- options --------------------------------------------------------------------------
    def _set_flag(self, worker, name, value):
        setter = getattr(lib, "OSSL_CMP_SRV_CTX_set_" + name)
        if setter(worker.srv, int(bool(value))) != 1:
            raise OpenSSLError("cannot set %s" % name, drain())

    def _option(name, doc):  # noqa: N805 - property factory used in the class body
        def get(self) -> bool:
            return self._options[name]

        def set_(self, value: bool) -> None:
            if not isinstance(value, (bool, int)):
                raise TypeError("%s must be bool" % name)
            self._options[name] = bool(value)
            with self._pool_lock:
                for worker in list(self._all):
                    with worker.ctx._lock:
                        self._set_flag(worker, name, value)

        return property(get, set_, doc=doc)

    grant_implicit_confirm = _option("grant_implicit_confirm",
                                     "Grant implicit confirmation when a client asks for it.")
    accept_unprotected = _option("accept_unprotected",
                                 "Accept requests without (or with invalid) protection.")
    accept_raverified = _option("accept_raverified", "Accept RAVerified proof-of-possession.")
    send_unprotected_errors = _option("send_unprotected_errors",
                                      "Send error messages without protection.")
    del _option

    def _apply_everywhere(self, apply) -> None:
        with self._pool_lock:
            workers = list(self._all)
        for worker in workers:
            with worker.ctx._lock:
                apply(worker.ctx)

    # -- the pool -------------------------------------------------------------------------
    def _new_worker(self) -> _Worker:
        handle = []
        worker = _Worker(self, handle)
        self._handles[id(worker)] = handle[0]
        self._all.add(worker)
        return worker

    def _take(self, tid) -> _Worker:
        """The worker for transaction ``tid`` (bytes or None), under the pool lock."""
        now = time.monotonic()
        with self._pool_lock:
            worker = self._open.get(tid) if tid is not None else None
            if worker is None:
                self._expire(now)
                worker = self._idle_worker()
                worker.begin(tid, self.ctx.configured_untrusted)
                if tid is not None:
                    self._open[tid] = worker
            worker.last_used = now
            worker.busy += 1
            return worker

    def _idle_worker(self) -> _Worker:
        if self._idle:
            worker = self._idle.pop()
            worker.pooled = False
            return worker
        return self._new_worker()

    def _expire(self, now) -> None:
        # only workers with no request in flight can be taken away from their transaction
        idle_open = [(t, w) for t, w in self._open.items() if not w.busy]
        stale = [t for t, w in idle_open if now - w.last_used > self.transaction_timeout]
        excess = len(self._open) - self.max_open_transactions + 1
        if excess > 0:
            by_age = sorted(idle_open, key=lambda item: item[1].last_used)
            stale.extend(t for t, _ in by_age[:excess])
        for tid in set(stale):
            self._release(self._open.pop(tid))

    def _release(self, worker) -> None:
        """Back to the idle list (once), or dropped if it was left in the middle of
        polling.  Only called for a worker with no request in flight."""
        worker.tid = None
        if worker.polling:
            # the SRV_CTX would insist on a pollReq: drop it (freed with its last reference,
            # after C is done with it: no request is in flight)
            self._all.discard(worker)
            self._handles.pop(id(worker), None)
        elif not worker.pooled:
            worker.pooled = True
            self._idle.append(worker)

    def _give_back(self, worker, ended: bool, in_flight: bool = True) -> None:
        with self._pool_lock:
            if in_flight:
                worker.busy -= 1
            if worker.busy:
                return  # another request of the transaction is still on it
            if worker.tid is not None:
                if self._open.get(worker.tid) is not worker:
                    return  # already expired and released
                if not ended:
                    return
                del self._open[worker.tid]
            self._release(worker)

    @property
    def open_transactions(self) -> int:
        """Transactions currently holding a worker (for monitoring and tests)."""
        return len(self._open)

    @property
    def pool_size(self) -> int:
        """Live workers (SRV_CTXs), idle or busy."""
        return len(self._all)

    # -- serving --------------------------------------------------------------------------
    def _process(self, request: Message):
        """(response Message, exception raised by a handler or None)."""
        _check_instance(request, Message, "request")
        worker = self._take(request.transaction_id)
        ended = True
        try:
            with worker.ctx._lock:
                state = worker.ctx._state
                lib.ERR_clear_error()
                with callbacks.running(state):
                    rsp = lib.OSSL_CMP_SRV_process_request(worker.srv, request.ptr)
                exc = state.take_exception()
                if rsp == ffi.NULL:
                    raise OpenSSLError("the server could not produce a response", drain())
                response = Message._owned(rsp)
                body = lib.OSSL_CMP_MSG_get_bodytype(rsp)
                if body in _CERT_RESPONSES:
                    # no certConf follows an implicitly confirmed or a refused certificate
                    ended = worker.refused or lib.OSSL_CMP_CTX_get_option(
                        worker.ctx.ptr, Option.IMPLICIT_CONFIRM) == 1
                else:
                    ended = body in _CLOSING
                lib.ERR_clear_error()
        finally:
            self._give_back(worker, ended)
        return response, exc

    def process(self, request: Message) -> Message:
        """Answer one request in-process.  An exception raised by a handler is re-raised
        here (after the error response was built); use ``serve_http`` to keep serving."""
        response, exc = self._process(request)
        if exc is not None:
            raise exc
        return response

    def attach(self, client: Context) -> None:
        """Wire ``client`` to this server in-process through the C fast path
        (``OSSL_CMP_CTX_server_perform``): no Python between client and server core.  The
        client gets a worker of its own until it is closed or re-attached."""
        _check_instance(client, Context, "client")
        with self._pool_lock:
            worker = self._idle_worker()
            worker.begin(None, self.ctx.configured_untrusted)
        client.attach_srv_ctx(worker.srv, owner=_Lease(self, worker))

    def serve_http(self, host: str = "127.0.0.1", port: int = 0) -> "HTTPServing":
        """Serve CMP over HTTP (RFC 6712) in a background thread; use as a context manager.
        ``.url`` is the address to give clients (``openssl cmp -server …``)."""
        from openssl_cmp.http import HTTPServing

        return HTTPServing(self, host, port)

    def __repr__(self):
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


def _trampoline(handler: str, failure):
    """The frame of every server callback: find the worker through custom_ctx, give the
    request to the body as a view (valid during the call only), and turn any exception into
    an error response from the core plus a re-raise in the call that drove the server."""
    def wrap(body):
        def trampoline(srv_ctx, req, *args):
            worker = _worker_of(srv_ctx)
            request = Message._view(req)
            try:
                return body(worker, worker.server_ref(), request, *args)
            except BaseException as exc:  # noqa: BLE001 - re-raised by the driving call
                _fail(exc, handler)
                return failure
            finally:
                end_view(request)  # a request the handler kept becomes its own copy
        trampoline.__name__ = body.__name__
        return trampoline
    return wrap


def _stack_of(kind: str, items) -> object:
    """A new ``STACK_OF(kind)`` holding our own references to ``items`` (the core frees
    it and them)."""
    push = getattr(lib, "sk_%s_push" % kind)
    free_item = getattr(lib, items[0]._free) if items else None
    sk = getattr(lib, "sk_%s_new_null" % kind)()
    if sk == ffi.NULL:
        raise MemoryError("cannot allocate a %s stack" % kind)
    for item in items:
        ref = item._new_reference()
        if push(sk, ref) <= 0:
            free_item(ref)
            getattr(lib, "sk_%s_pop_free" % kind)(sk, ffi.addressof(lib, item._free))
            raise MemoryError("cannot build a %s stack" % kind)
    return sk


@ffi.def_extern(name="ocmp_srv_cert_request_cb")
@_trampoline("handle_cert_request", ffi.NULL)
def _srv_cert_request(worker, server, request, cert_req_id, crm, p10cr, cert_out, chain_out,
                      ca_pubs_out):
    crm_v = None if crm == ffi.NULL else CertRequest._view(crm)
    csr_v = None if p10cr == ffi.NULL else CSR._view(p10cr)
    try:
        result = server.handle_cert_request(request, cert_req_id, crm_v, csr_v)
    finally:  # one call each: a loop variable would count as a reference kept
        end_view(crm_v)
        end_view(csr_v)
    if not isinstance(result, CertResponse):
        raise TypeError("handle_cert_request must return a CertResponse, not %s"
                        % type(result).__name__)
    # The core frees the outputs, on success and on failure alike: each is stored as soon
    # as it exists, so nothing leaks if a later step raises; the status goes last.
    if result.cert is not None:
        cert_out[0] = result.cert._new_reference()
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


@ffi.def_extern(name="ocmp_srv_rr_cb")
@_trampoline("handle_rr", ffi.NULL)
def _srv_rr(worker, server, request, issuer, serial):
    # OpenSSL 3.0 passes what the RevDetails template holds: either may be absent (NULL)
    name = None if issuer == ffi.NULL else Name._copied(ffi.cast("X509_NAME *", issuer))
    number = None if serial == ffi.NULL else _asn1_integer_to_int(serial)
    result = server.handle_rr(request, name, number)
    if not isinstance(result, StatusInfo):
        raise TypeError("handle_rr must return a StatusInfo, not %s" % type(result).__name__)
    return result._to_c()


@ffi.def_extern(name="ocmp_srv_genm_cb")
@_trampoline("handle_genm", 0)
def _srv_genm(worker, server, request, in_itavs, out):
    from openssl_cmp.message import itavs_from_stack

    result = server.handle_genm(request, itavs_from_stack(in_itavs, False))
    if not isinstance(result, (list, tuple)) or not all(isinstance(i, ITAV) for i in result):
        raise TypeError("handle_genm must return a list of ITAV")
    out[0] = _stack_of("OSSL_CMP_ITAV", list(result))
    return 1


def _utf8_list(sk) -> list[str]:
    if sk == ffi.NULL:
        return []
    return [asn1_string_bytes(lib.sk_ASN1_UTF8STRING_value(sk, i)).decode("utf-8", "replace")
            for i in range(lib.sk_ASN1_UTF8STRING_num(sk))]


@ffi.def_extern(name="ocmp_srv_error_cb")
@_trampoline("handle_error", None)
def _srv_error(worker, server, request, status_info, error_code, details):
    status = StatusInfo._from_c(status_info) if status_info != ffi.NULL else None
    code = None if error_code == ffi.NULL else _asn1_integer_to_int(error_code)
    server.handle_error(request, status, code, _utf8_list(details))


@ffi.def_extern(name="ocmp_srv_certconf_cb")
@_trampoline("handle_cert_conf", 0)
def _srv_cert_conf(worker, server, request, cert_req_id, cert_hash, si):
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
def _srv_poll_req(worker, server, request, cert_req_id, cert_req_out, check_after_out):
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
