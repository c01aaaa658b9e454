"""``Context``: one ``OSSL_CMP_CTX``, every function of its man page, and the sessions.

Ownership: whatever is given to a Context (certificates, keys, names, stores, lists) is
up-ref'd or copied on the way in, and whatever is taken out is up-ref'd or copied on the way
out, so Python objects on either side stay valid and independent whatever happens to the
context (reinit, close, garbage collection).  See docs/contract.md.

Threads: a Context is driven by one thread at a time (an ``RLock`` guards every call that
touches the C context); different Contexts run in parallel because cffi releases the GIL
during C calls.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, NoReturn, TypeVar, cast
from urllib.parse import urlsplit

from openssl_cmp import _bio, _diagnose, _msg_edit, callbacks
from openssl_cmp import _transcript as _wire
from openssl_cmp._asn1 import asn1_string_bytes, int_to_asn1_integer
from openssl_cmp._boundary import Boundary
from openssl_cmp._bio import check_instance as _check_instance
from openssl_cmp._ownership import Owned
from openssl_cmp._typing import BytesLike, CData
from openssl_cmp.callbacks import CertConfCallback, HttpCallback, LogCallback, TransferCallback
from openssl_cmp.binding import ffi, lib
from openssl_cmp.enums import FailInfo, LogLevel, Option, PKIStatus, ReqType
from openssl_cmp.errors import CMPError, drain, probe, raise_openssl, require
from openssl_cmp.keys import PrivateKey, PublicKey
from openssl_cmp.libctx import LibContext
from openssl_cmp.message import ITAV, CertRequest, Message, itavs_from_stack
from openssl_cmp.objects import (CRL, CSR, CertStack, Certificate, Extensions, GeneralName, Name,
                                 PolicyInfo, TrustStore, as_general_name, as_name,
                                 certs_from_stack)
from openssl_cmp.tls import TLS, host_is_ip
from openssl_cmp import itavs, support
from openssl_cmp.itavs import CertReqTemplate, RootCaKeyUpdate

__all__ = ["Context", "default_cert_conf"]

_O = TypeVar("_O", bound=Owned)

# (minimum, maximum) accepted by OSSL_CMP_CTX_set_option; None = no bound checked here
_OPTION_RANGES = {
    Option.LOG_VERBOSITY: (0, 8),
    Option.KEEP_ALIVE: (0, 2),
    Option.USE_TLS: (0, 1),
    Option.POPO_METHOD: (-1, 3),
    Option.REVOCATION_REASON: (-1, 10),
}
_INT_MAX = 2**31 - 1
_CERT_PROFILE_OID = "1.3.6.1.5.5.7.4.21"  # id-it-certProfile (RFC 9483 §3.4)
_POPO_NONE = -1  # OSSL_CRMF_POPO_NONE: on 3.5 the request for central key generation
_POPO_SIGNATURE = 1  # OSSL_CRMF_POPO_SIGNATURE, OpenSSL's default
_SRV_CTX_PTR = ffi.typeof("OSSL_CMP_SRV_CTX *")
_SERVER_PERFORM = ffi.addressof(lib, "OSSL_CMP_CTX_server_perform")
_TLS_HTTP_CB = ffi.addressof(lib, "ocmp_tls_http_cb")


def _freer(keep: dict[str, Any]) -> Callable[[CData], None]:
    """The destructor of a C context: free it, then what C pointed into (the TLS settings
    of the HTTP callback), in that order whatever order Python drops references in."""
    def free(ptr: CData, _free: Callable[[CData], None] = lib.OSSL_CMP_CTX_free) -> None:
        _free(ptr)
        keep.clear()
    return free


# options the linked OpenSSL knows (USE_TLS needs 3.2, NO_CACHE_EXTRACERTS 3.3)
_SUPPORTED_OPTIONS = frozenset(o for o in Option if hasattr(lib, o.c_name))


def _as_option(option: object) -> Option:
    if type(option) is Option:
        return option
    if isinstance(option, bool) or not isinstance(option, int):
        raise TypeError("option must be an Option, not %s" % type(option).__name__)
    try:
        return Option(option)
    except ValueError:
        raise ValueError("unknown CMP option %r" % (option,)) from None


def _octets(value: object, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError("%s must be bytes, not %s" % (what, type(value).__name__))
    return bytes(value)


class Context:
    """A CMP client context (``OSSL_CMP_CTX``).  Use as a context manager or ``close()``."""

    __slots__ = ("_ptr", "_boundary", "_handle", "_libctx", "_propq", "_values",
                 "_geninfo", "_server", "_http_arg_keep", "_owner",
                 "_retired", "_tls", "_https", "_keep", "_transcript", "_recording",
                 "__weakref__")

    _ptr: CData
    _boundary: Boundary
    _handle: CData
    _libctx: CData
    _propq: str | None
    _values: dict[str, Any]
    _geninfo: list[ITAV]
    _server: object
    _http_arg_keep: CData
    _owner: object
    _retired: list[Certificate]
    _tls: TLS | None
    _https: bool
    _keep: dict[str, Any]
    _transcript: list[_wire.Exchange]
    _recording: bool

    def __init__(self, libctx: LibContext | CData = None, propq: str | None = None) -> None:
        if isinstance(libctx, LibContext):
            libctx = libctx.ptr  # its gc cdata, kept in self._libctx: the C context lives on
        if libctx is not None and not (isinstance(libctx, ffi.CData)
                                       and ffi.typeof(libctx) is ffi.typeof("OSSL_LIB_CTX *")):
            raise TypeError("libctx must be an OSSL_LIB_CTX * cdata or None")
        propq_c = ffi.NULL if propq is None else _bio.c_string(propq, "propq")
        ptr = lib.OSSL_CMP_CTX_new(ffi.NULL if libctx is None else libctx, propq_c)
        if ptr == ffi.NULL:
            raise_openssl("cannot create OSSL_CMP_CTX")
        self._boundary = Boundary(callbacks.CallbackState(self))
        self._libctx = libctx
        self._propq = propq
        self._values = {}  # what was set through this object, for setters without getter
        self._geninfo = []  # geninfo ITAVs pushed (for OpenSSL < 3.3, which has no getter)
        self._server = None  # a Server attached in-process (kept alive while attached)
        self._http_arg_keep = None
        self._owner = None  # set for a borrowed context (a server's inner context)
        self._retired = []  # certificates emptied out of untrusted, kept until reinit
        self._handle = None  # ffi.new_handle(callback state), made when C needs it
        self._tls = None  # the TLS settings in use (None: plain HTTP)
        self._https = False  # the URL said https://: TLS may not be switched off
        self._keep = {}  # C memory the C context points into; freed after it (see _freer)
        self._transcript = []  # the exchanges of the last transaction (one list, reused)
        self._recording = False  # record the C transfers too (record_transcript)
        # The callback state outlives the C context: ffi.gc runs the free while the
        # boundary (and thus the state and its handle) is still referenced by this object.
        self._ptr = ffi.gc(ptr, _freer(self._keep))
        lib.OSSL_CMP_CTX_set_log_cb(ptr, lib.ocmp_log_cb)

    @classmethod
    def _wrap_borrowed(cls, ptr: CData, owner: object) -> "Context":
        """A Context over an ``OSSL_CMP_CTX *`` owned by ``owner`` (e.g. the inner context
        of an ``OSSL_CMP_SRV_CTX``, whose gc'd pointer is ``owner``): never freed here."""
        self = object.__new__(cls)
        self._boundary = Boundary(callbacks.CallbackState(self))
        self._libctx = None
        self._propq = None
        self._values = {}
        self._geninfo = []
        self._server = None
        self._http_arg_keep = None
        self._owner = owner
        self._retired = []
        self._handle = None
        self._tls = None
        self._https = False
        self._keep = {}
        self._transcript = []
        self._recording = False
        self._ptr = ptr
        lib.OSSL_CMP_CTX_set_log_cb(ptr, lib.ocmp_log_cb)
        return self

    # -- lifetime -------------------------------------------------------------------------
    @property
    def ptr(self) -> CData:
        """The ``OSSL_CMP_CTX *`` (usable with ``binding.lib``) while the context is open;
        typed ``Any``: a cffi cdata has no static type.  ValueError once closed."""
        ptr = self._ptr
        if ptr is None:
            raise ValueError("Context is closed")
        return ptr

    def close(self) -> None:
        """Free the C context now.  Objects obtained from it stay valid."""
        with self._boundary.lock:
            if self._boundary.depth:
                raise RuntimeError("a Context cannot be closed from inside one of its own "
                                   "callbacks (OpenSSL is still using it)")
            ptr, self._ptr = self._ptr, None
            if ptr is not None and self._owner is None:
                # freeing may log (HTTP keep-alive close): route it to our callback
                with self._boundary.running():
                    ffi.release(ptr)
            self._owner = None
            self._server = None
            self._boundary.guard = None
            # C can no longer call back: let the callables and their args go now
            state = self._boundary.state
            state.log_callback = callbacks.log_to_logging
            state.transfer_callback = state.transfer_callback_arg = None
            state.cert_conf_callback = state.cert_conf_callback_arg = None
            state.http_callback = state.http_callback_arg = None
            state.cert_conf_text = None
            self._handle = None
            self._http_arg_keep = None
            # the log callback failed while the context was freed
            self._boundary.raise_stored()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._ptr is None

    def __enter__(self) -> "Context":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        # No C call through the boundary (it clears the error queue) and no waiting: a
        # Context another thread is driving is shown as busy.
        name = type(self).__name__
        lock = self._boundary.lock
        if not lock.acquire(blocking=False):
            return "<%s busy>" % name
        try:
            ptr = self._ptr
            if ptr is None:
                return "<%s closed>" % name
            value: int = lib.OSSL_CMP_CTX_get_status(ptr)  # reads one field, queues nothing
        finally:
            lock.release()
        try:
            status: PKIStatus | int = PKIStatus(value)
        except ValueError:
            status = value
        return "<%s status=%s>" % (name, status.name if isinstance(status, PKIStatus)
                                   else status)

    # -- the boundary ---------------------------------------------------------------------
    def _call(self, func: Callable[..., Any], *args: Any) -> Any:
        """Call ``func(ctx, *args)`` through the boundary: under the lock, with callbacks
        routed to this context; re-raise an exception stored by a callback."""
        boundary = self._boundary
        with boundary.lock:
            ptr = self._ptr
            if ptr is None:
                raise ValueError("Context is closed")
            return boundary.call(func, ptr, *args)

    def _set(self, func: Callable[..., Any], what: str, *args: Any) -> None:
        """A setter returning 1 on success.  Setters never call back into Python, so no
        callback routing is needed (this is the hot path of configuring a context)."""
        with self._boundary.lock:
            ptr = self._ptr
            if ptr is None:
                raise ValueError("Context is closed")
            self._boundary.begin()
            if func(ptr, *args) != 1:
                raise_openssl("cannot set %s" % what)

    def _check_changeable(self) -> None:
        """Under the lock: refuse a change while OpenSSL is inside a call on this context
        (only this thread can be there: others wait for the lock)."""
        self._boundary.refuse_reentry()

    @property
    def _state_handle(self) -> CData:
        """The ``void *`` through which C reaches this context's callback state; kept on
        the Context (not on the state) so that nothing points back: no reference cycle."""
        handle = self._handle
        if handle is None:
            handle = self._handle = ffi.new_handle(self._boundary.state)
        return handle

    def _give(self, func: Callable[..., Any], what: str, obj: Owned, *leading: Any,
              success: Callable[[Any], bool] = lambda rc: rc == 1) -> None:
        """A set0/push0 call: C takes a reference of ``obj`` (up-ref'd or copied for it),
        on success only.  The context is checked first, so a closed context takes no
        reference, and any failure gives the reference back."""
        with self._boundary.lock:
            if self._ptr is None:
                raise ValueError("Context is closed")
            self._check_changeable()
            ref = obj._new_reference()
            try:
                rc = self._call(func, *leading, ref)
            except BaseException:
                obj._release_reference(ref)
                raise
            if not success(rc):
                obj._release_reference(ref)
                raise_openssl("cannot set %s" % what)

    def _push(self, func: Callable[..., Any], what: str, ptr: CData) -> None:
        """A push1 call (C copies).  Success is any positive return, as for push0."""
        with self._boundary.lock:
            self._check_changeable()
            if self._call(func, ptr) <= 0:
                raise_openssl("cannot add %s" % what)

    def _remember(self, key: str, value: object) -> None:
        self._values[key] = value

    # -- reinit, libctx -------------------------------------------------------------------
    def reinit(self) -> None:
        """Prepare for another transaction: clears status, results, transaction ID, nonces
        and genm ITAVs; keeps options, credentials and geninfo ITAVs."""
        self._set(lib.OSSL_CMP_CTX_reinit, "reinit")
        self._transcript.clear()
        for key in ("transaction_id", "sender_nonce"):
            self._values.pop(key, None)
        self._retired.clear()  # reinit dropped the validated server certificate

    @property
    def libctx(self) -> CData:
        """The ``OSSL_LIB_CTX *`` cdata given at construction (None for the default)."""
        if hasattr(lib, "OSSL_CMP_CTX_get0_libctx"):
            ptr = self._call(lib.OSSL_CMP_CTX_get0_libctx)
            return None if ptr == ffi.NULL else ptr
        return self._libctx

    @property
    def propq(self) -> str | None:
        """The property query string given at construction, or None."""
        if hasattr(lib, "OSSL_CMP_CTX_get0_propq"):
            ptr = self._call(lib.OSSL_CMP_CTX_get0_propq)
            return None if ptr == ffi.NULL else ffi.string(ptr).decode()
        return self._propq

    # -- options --------------------------------------------------------------------------
    def set_option(self, option: Option | int, value: int) -> None:
        """Set an ``OSSL_CMP_OPT_*`` option (``OSSL_CMP_CTX_set_option``); the value is
        range-checked first."""
        option = _as_option(option)
        if isinstance(value, bool):
            value = int(value)
        if not isinstance(value, int):
            raise TypeError("value of %s must be int, not %s"
                            % (option.name, type(value).__name__))
        if option not in _SUPPORTED_OPTIONS:
            require(option.c_name, "Option.%s" % option.name)
        low, high = _OPTION_RANGES.get(option, (0, _INT_MAX))
        if not low <= value <= high:
            raise ValueError("value of %s must be in %d..%d, not %d"
                             % (option.name, low, high, value))
        with self._boundary.lock:
            ptr = self._ptr
            if ptr is None:
                raise ValueError("Context is closed")
            self._boundary.begin()
            if option is Option.USE_TLS and value == 0 and self._tls is not None:
                # our HTTP callback uses TLS whatever this option says: say so
                raise ValueError("Option.USE_TLS=0 cannot switch TLS off while ctx.tls is "
                                 "set: set ctx.tls = None (with an http:// URL) instead")
            if lib.OSSL_CMP_CTX_set_option(ptr, option, value) != 1:
                raise_openssl("cannot set option %s" % option.name)
            if option is Option.MSG_TIMEOUT:
                self._values["msg_timeout_set"] = True
            elif option is Option.TOTAL_TIMEOUT and value > 0 \
                    and not self._values.get("msg_timeout_set"):
                # With MSG_TIMEOUT at its default (-1) OpenSSL waits for a response without
                # limit, TOTAL_TIMEOUT notwithstanding (measured on 3.0 and 3.5).  A positive
                # MSG_TIMEOUT is capped by what is left of TOTAL_TIMEOUT before each
                # exchange, so TOTAL_TIMEOUT as MSG_TIMEOUT makes the total bound hold.
                if lib.OSSL_CMP_CTX_set_option(ptr, lib.OSSL_CMP_OPT_MSG_TIMEOUT, value) != 1:
                    raise_openssl("cannot set option MSG_TIMEOUT")  # pragma: no cover
            if option in (Option.MSG_TIMEOUT, Option.TOTAL_TIMEOUT) and self._tls is not None:
                self._refresh_tls()  # the proxy CONNECT timeout follows them

    def get_option(self, option: Option | int) -> int:
        """The value of an option (``OSSL_CMP_CTX_get_option``)."""
        option = _as_option(option)
        if option not in _SUPPORTED_OPTIONS:
            require(option.c_name, "Option.%s" % option.name)
        value: int = self._call(lib.OSSL_CMP_CTX_get_option, option)
        # -1 is both a value (REVOCATION_REASON, MSG_TIMEOUT) and the error return
        if value == -1 and lib.ERR_peek_error():
            raise_openssl("cannot get option %s" % option.name)
        return value

    @property
    def log_verbosity(self) -> LogLevel:
        """``Option.LOG_VERBOSITY`` as a :class:`LogLevel`."""
        return LogLevel(self.get_option(Option.LOG_VERBOSITY))

    @log_verbosity.setter
    def log_verbosity(self, level: LogLevel | int) -> None:
        self.set_option(Option.LOG_VERBOSITY, level)

    # -- logging --------------------------------------------------------------------------
    @property
    def log_callback(self) -> LogCallback | None:
        """callable(component, file, line, level: LogLevel, message) or None.  The default
        forwards to ``logging.getLogger("openssl_cmp")``; None restores OpenSSL's own
        printing (to stdout/stderr)."""
        return self._boundary.state.log_callback

    @log_callback.setter
    def log_callback(self, callback: LogCallback | None) -> None:
        if callback is not None and not callable(callback):
            raise TypeError("log_callback must be callable or None")
        with self._boundary.lock:
            cb = ffi.NULL if callback is None else lib.ocmp_log_cb
            self._set(lib.OSSL_CMP_CTX_set_log_cb, "log callback", cb)
            self._boundary.state.log_callback = callback

    def print_errors(self) -> None:
        """Drain OpenSSL's error queue of this thread through the log callback."""
        with self._boundary.lock:
            with self._boundary.running():
                lib.OSSL_CMP_CTX_print_errors(self.ptr)
            # OpenSSL stopped printing at a failing log callback: the rest is dropped too
            self._boundary.raise_stored()

    # -- message transfer -----------------------------------------------------------------
    def _set_string(self, func: Callable[..., Any], key: str, value: str | None,
                    what: str) -> None:
        value_c = ffi.NULL if value is None else _bio.c_string(value, what)
        with self._boundary.lock:
            self._set(func, what, value_c)
            self._remember(key, value)
            if self._tls is not None and key != "server_path":
                self._refresh_tls()  # host name check, SNI and proxy follow the server

    @property
    def server(self) -> str | None:
        """The server host name or address (``OSSL_CMP_CTX_set1_server``)."""
        return self._values.get("server")

    @server.setter
    def server(self, address: str | None) -> None:
        self._set_string(lib.OSSL_CMP_CTX_set1_server, "server", address, "server")

    @property
    def server_path(self) -> str | None:
        """The HTTP path on the server (``OSSL_CMP_CTX_set1_serverPath``)."""
        return self._values.get("server_path")

    @server_path.setter
    def server_path(self, path: str | None) -> None:
        self._set_string(lib.OSSL_CMP_CTX_set1_serverPath, "server_path", path, "server_path")

    @property
    def server_port(self) -> int | None:
        """The server port (``OSSL_CMP_CTX_set_serverPort``; 0: the default)."""
        return self._values.get("server_port")

    @server_port.setter
    def server_port(self, port: int) -> None:
        if isinstance(port, bool) or not isinstance(port, int):
            raise TypeError("server_port must be int")
        if not 0 <= port <= 65535:
            raise ValueError("server_port must be 0..65535 (0: the default), not %d" % port)
        with self._boundary.lock:
            self._set(lib.OSSL_CMP_CTX_set_serverPort, "server_port", port)
            self._remember("server_port", port)
            if self._tls is not None:
                self._refresh_tls()

    @property
    def proxy(self) -> str | None:
        """The HTTP(S) proxy (``OSSL_CMP_CTX_set1_proxy``)."""
        return self._values.get("proxy")

    @proxy.setter
    def proxy(self, proxy: str | None) -> None:
        self._set_string(lib.OSSL_CMP_CTX_set1_proxy, "proxy", proxy, "proxy")

    @property
    def no_proxy(self) -> str | None:
        """Hosts reached without the proxy (``OSSL_CMP_CTX_set1_no_proxy``)."""
        return self._values.get("no_proxy")

    @no_proxy.setter
    def no_proxy(self, names: str | None) -> None:
        self._set_string(lib.OSSL_CMP_CTX_set1_no_proxy, "no_proxy", names, "no_proxy")

    def set_url(self, url: str) -> None:
        """``http://host[:port][/path]`` or ``https://…`` sets server, server_port and
        server_path (like ``openssl cmp -server``).  ``https://`` turns TLS on with
        ``ctx.tls``, or ``TLS()`` (system trust store, host name checked) when unset; TLS
        then stays on until an ``http://`` URL is set."""
        if not isinstance(url, str):
            raise TypeError("url must be str")
        parts = urlsplit(url if "://" in url else "http://" + url)
        try:
            port = parts.port
        except ValueError:
            raise ValueError("url has an invalid port: %r" % url) from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must look like http[s]://host[:port][/path], not %r" % url)
        https = parts.scheme == "https"
        tls = (self._tls or TLS()) if https else None
        with self._boundary.lock:
            self._check_changeable()
            if https and self._boundary.state.http_callback is not None:
                raise ValueError("an https:// URL needs the HTTP callback slot for TLS: "
                                 "set ctx.http_callback = None first")
            self.server = parts.hostname
            self.server_port = port or 0
            self.server_path = parts.path.lstrip("/") or "/"
            self._https = https
            if https:
                self.tls = tls

    # -- transfer and http callbacks ------------------------------------------------------
    @property
    def transfer_callback(self) -> TransferCallback | None:
        """callable(ctx, request: Message) -> Message, or None for HTTP."""
        callback = self._boundary.state.transfer_callback
        if isinstance(callback, _wire.Recorder):  # every exchange is recorded
            return callback.inner if callback.user else None
        return callback

    @transfer_callback.setter
    def transfer_callback(self, callback: TransferCallback | None) -> None:
        if callback is not None and not callable(callback):
            raise TypeError("transfer_callback must be callable or None")
        with self._boundary.lock:
            if callback is None and not self._recording:
                # 3.5 reads a non-NULL arg as a BIO pair when the default transfer is used
                self._set(lib.OSSL_CMP_CTX_set_transfer_cb, "transfer callback", ffi.NULL)
                self._set(lib.OSSL_CMP_CTX_set_transfer_cb_arg, "transfer arg", ffi.NULL)
                self._boundary.state.transfer_callback = None
            else:
                # a Python callback is recorded at no extra C cost; OpenSSL's HTTP
                # transfer only with record_transcript (it then goes through Python)
                self._set_recorder(callback or _wire.http_transfer(),
                                   callback is not None)
            self._server = None
            self._keep.pop("srv_ctx", None)
            self._boundary.guard = None

    def _set_recorder(self, inner: TransferCallback, user: bool) -> None:
        """Under the lock: the Python transfer trampoline, recording ``inner``."""
        self._set(lib.OSSL_CMP_CTX_set_transfer_cb_arg, "transfer arg", self._state_handle)
        self._set(lib.OSSL_CMP_CTX_set_transfer_cb, "transfer callback",
                  lib.ocmp_transfer_cb)
        self._boundary.state.transfer_callback = _wire.Recorder(
            inner, self._transcript, user)

    def _protect_message(self, msg: Message) -> None:
        """Protect ``msg`` in place with this context's credentials, for
        ``Message.edit(reprotect=self)`` (also from inside this context's callbacks: the
        lock is reentrant, and the context's transactionID is put back)."""
        with self._boundary.lock:
            ptr = self.ptr
            probe_msg = msg.edit(protection="none")
            _msg_edit.protect(ptr, msg.ptr, msg.transaction_id, probe_msg.ptr)

    @property
    def transcript(self) -> list[_wire.Exchange]:
        """The exchanges of the last transaction (``Exchange(request, response,
        seconds)``), oldest first; cleared when an ``exec_*`` starts and by ``reinit()``.
        Recorded whenever a Python transfer callback is set (an ``Intercept`` too); for
        OpenSSL's HTTP transfer and an attached ``Server`` set ``record_transcript``."""
        return list(self._transcript)

    @property
    def record_transcript(self) -> bool:
        """Also record OpenSSL's own transfers (HTTP, and a ``Server`` attached
        in-process): each message then takes a hop through Python (see docs/testing.md
        for the cost).  Default False."""
        return self._recording

    @record_transcript.setter
    def record_transcript(self, on: bool) -> None:
        if not isinstance(on, bool):
            raise TypeError("record_transcript must be bool")
        with self._boundary.lock:
            self._check_changeable()
            self._recording = on
            callback = self._boundary.state.transfer_callback
            if isinstance(callback, _wire.Recorder) and callback.user:
                return  # a Python callback is recorded either way
            srv_ctx = self._keep.get("srv_ctx")
            if srv_ctx is None:
                self.transfer_callback = None  # HTTP: recorded or C
            elif on:
                self._set_recorder(_wire.server_transfer(srv_ctx), False)
            else:
                self._set(lib.OSSL_CMP_CTX_set_transfer_cb_arg, "transfer arg", srv_ctx)
                self._set(lib.OSSL_CMP_CTX_set_transfer_cb, "transfer callback",
                          _SERVER_PERFORM)
                self._boundary.state.transfer_callback = None

    @property
    def transfer_callback_arg(self) -> object:
        """Any Python object for the transfer callback (read it as
        ``ctx.transfer_callback_arg``); never given to C."""
        return self._boundary.state.transfer_callback_arg

    @transfer_callback_arg.setter
    def transfer_callback_arg(self, arg: object) -> None:
        self._boundary.state.transfer_callback_arg = arg

    def attach_srv_ctx(self, srv_ctx: CData, owner: object = None) -> None:
        """Wire this client to an in-process ``OSSL_CMP_SRV_CTX *`` through the C fast path
        (``OSSL_CMP_CTX_server_perform`` as transfer callback, no Python in between).
        ``owner`` (e.g. the ``Server`` that owns ``srv_ctx``) is kept alive while attached.
        ``Server.attach(ctx)`` does this for you."""
        if not (isinstance(srv_ctx, ffi.CData) and ffi.typeof(srv_ctx) is _SRV_CTX_PTR):
            raise TypeError("srv_ctx must be an OSSL_CMP_SRV_CTX * cdata")
        if srv_ctx == ffi.NULL:
            raise ValueError("srv_ctx is NULL")
        with self._boundary.lock:
            ptr = self._ptr
            if ptr is None:
                raise ValueError("Context is closed")
            if self._recording:  # through Python, to record each exchange
                self._set_recorder(_wire.server_transfer(srv_ctx), False)
            else:
                if lib.OSSL_CMP_CTX_set_transfer_cb_arg(ptr, srv_ctx) != 1 or \
                        lib.OSSL_CMP_CTX_set_transfer_cb(ptr, _SERVER_PERFORM) != 1:
                    raise_openssl("cannot attach the server")
                self._boundary.state.transfer_callback = None
            self._keep["srv_ctx"] = srv_ctx
            self._server = owner if owner is not None else srv_ctx
            self._boundary.guard = getattr(owner, "lock", None)

    @property
    def attached_server(self) -> object:
        """What ``attach_srv_ctx`` attached (its ``owner``, e.g. the lease of a ``Server``
        worker, or the raw pointer), or None."""
        return self._server

    @property
    def http_callback(self) -> HttpCallback | None:
        """callable(ctx, bio, connect: bool, detail: int) -> BIO * (cdata) or None."""
        return self._boundary.state.http_callback

    @http_callback.setter
    def http_callback(self, callback: HttpCallback | None) -> None:
        if callback is not None and not callable(callback):
            raise TypeError("http_callback must be callable or None")
        with self._boundary.lock:
            if self._tls is not None:
                raise ValueError("ctx.tls uses OpenSSL's HTTP callback: set ctx.tls = None "
                                 "before setting http_callback")
            self._set(lib.OSSL_CMP_CTX_set_http_cb, "http callback",
                      ffi.NULL if callback is None else lib.ocmp_http_cb)
            self._boundary.state.http_callback = callback

    @property
    def http_callback_arg(self) -> object:
        """The argument of the HTTP callback (see the setter)."""
        return self._boundary.state.http_callback_arg

    @http_callback_arg.setter
    def http_callback_arg(self, arg: object) -> None:
        """A cdata pointer is passed to C as is (e.g. an ``SSL_CTX *``); another object goes
        as a handle.  As in C, a non-None arg makes OpenSSL 3.0/3.1 (and 3.2+ unless
        ``Option.USE_TLS`` is set) use TLS."""
        with self._boundary.lock:
            if self._tls is not None:
                raise ValueError("ctx.tls uses OpenSSL's HTTP callback argument: set "
                                 "ctx.tls = None before setting http_callback_arg")
            if arg is None:
                c_arg = ffi.NULL
                keep = None
            elif isinstance(arg, ffi.CData):
                c_arg = keep = arg
            else:
                c_arg = keep = ffi.new_handle(arg)
            self._set(lib.OSSL_CMP_CTX_set_http_cb_arg, "http arg", c_arg)
            self._http_arg_keep = keep
            self._boundary.state.http_callback_arg = arg

    # -- TLS ------------------------------------------------------------------------------
    @property
    def tls(self) -> TLS | None:
        """The TLS settings of HTTP transfers (``openssl_cmp.TLS``), or None for plain HTTP.

        Setting a ``TLS`` turns TLS on for any URL: the server certificate is verified
        (against ``tls.trusted``, or the system's trust store) and must match ``tls.host``
        or the URL's host; SNI is sent for DNS names.  The handshake runs inside OpenSSL's
        HTTP client (a C callback on OpenSSL's HTTP callback slot, so ``http_callback``
        cannot be combined with it).  Nothing is sent unless the handshake succeeds."""
        return self._tls

    @tls.setter
    def tls(self, tls: TLS | None) -> None:
        _check_instance(tls, TLS, "tls", allow_none=True)
        with self._boundary.lock:
            ptr = self.ptr
            self._boundary.begin()  # building the client SSL_CTX reports on a clear queue
            if tls is None:
                if self._https:
                    raise ValueError("the URL is https://: TLS stays on (set an http:// URL "
                                     "with set_url first)")
                if self._tls is not None:
                    lib.OSSL_CMP_CTX_set_http_cb(ptr, ffi.NULL)
                    lib.OSSL_CMP_CTX_set_http_cb_arg(ptr, ffi.NULL)
                    if hasattr(lib, "OSSL_CMP_OPT_USE_TLS"):
                        lib.OSSL_CMP_CTX_set_option(ptr, lib.OSSL_CMP_OPT_USE_TLS, 0)
                    self._keep.pop("tls", None)
                    self._tls = None
                return
            if self._boundary.state.http_callback is not None or self._http_arg_keep is not None:
                raise ValueError("ctx.tls needs OpenSSL's HTTP callback slot: set "
                                 "ctx.http_callback and ctx.http_callback_arg to None first")
            client = tls._client(self._libctx, self._propq)  # may raise: no change
            self._tls = tls
            self._refresh_tls(client)
            lib.OSSL_CMP_CTX_set_http_cb(ptr, _TLS_HTTP_CB)
            if hasattr(lib, "OSSL_CMP_OPT_USE_TLS"):  # 3.2+: TLS by option, not by the arg
                lib.OSSL_CMP_CTX_set_option(ptr, lib.OSSL_CMP_OPT_USE_TLS, 1)

    def _refresh_tls(self, client: tuple[CData, CData] | None = None) -> None:
        """Under the lock: (re)build what the C HTTP callback reads (host to check, SNI,
        proxy) from the current settings, and point the context at it."""
        old: Any = self._keep.get("tls")  # [client, info, C strings…] or None
        if client is None:
            client = cast("tuple[CData, CData]", old[0])
        ssl_ctx, cache = client
        info = ffi.new("ocmp_tls_info *")
        info.handshakes = 0 if old is None else old[1].handshakes
        keep = [client, info]

        def c_text(value: object) -> CData:
            if value is None:
                return ffi.NULL
            buf = ffi.new("char[]", str(value).encode("utf-8"))
            keep.append(buf)
            return buf

        values = self._values
        server = values.get("server")
        host = cast(TLS, self._tls).host or server
        info.ssl_ctx = ssl_ctx
        info.cache = cache
        info.host = c_text(None if host is None else host.strip("[]"))
        info.peer = c_text("%s|%s:%s" % (host, server, values.get("server_port") or 443))
        info.host_is_ip = int(host is not None and host_is_ip(host))
        info.server = c_text(server)
        info.port = c_text(values.get("server_port") or 443)
        info.proxy = c_text(values.get("proxy"))
        info.no_proxy = c_text(values.get("no_proxy"))
        timeouts = [lib.OSSL_CMP_CTX_get_option(self.ptr, o) for o in
                    (lib.OSSL_CMP_OPT_MSG_TIMEOUT, lib.OSSL_CMP_OPT_TOTAL_TIMEOUT)]
        info.timeout = min([t for t in timeouts if t > 0], default=0)
        if lib.OSSL_CMP_CTX_set_http_cb_arg(self.ptr, info) != 1:  # pragma: no cover
            raise_openssl("cannot set the TLS settings")
        self._keep["tls"] = keep

    @property
    def tls_connections(self) -> int:
        """TLS connections this context has set up so far (a new handshake each; with
        ``Option.KEEP_ALIVE`` one connection serves a whole transaction)."""
        keep = self._keep.get("tls")
        handshakes: int = 0 if keep is None else keep[1].handshakes
        return handshakes

    # -- server authentication ------------------------------------------------------------
    def _set_cert(self, func: Callable[..., Any], key: str, cert: Certificate | None,
                  what: str) -> None:
        _check_instance(cert, Certificate, what, allow_none=True)
        self._set(func, what, ffi.NULL if cert is None else cert.ptr)
        self._remember(key, None if cert is None else Certificate._borrowed(cert.ptr))

    def _set_name(self, func: Callable[..., Any], key: str, name: Name | str | None,
                  what: str) -> None:
        if name is None:
            self._set(func, what, ffi.NULL)
            self._remember(key, None)
            return
        parsed = not isinstance(name, Name)
        name = as_name(name, what)
        self._set(func, what, name.ptr)
        # keep our own copy for the getter; a name we parsed from text is ours already
        self._remember(key, name if parsed else Name._copied(name.ptr))

    def _get_remembered(self, key: str, cls: type[_O]) -> _O | None:
        """The ``cls`` object remembered under ``key`` (a new reference), or None."""
        value = self._values.get(key)
        # hand out an independent object: the caller may close what it gets
        return None if value is None else cast(_O, type(value)._borrowed(value.ptr))

    @property
    def server_cert(self) -> Certificate | None:
        """The pinned server certificate (``set1_srvCert``); overrides ``trusted``."""
        return self._get_remembered("server_cert", Certificate)

    @server_cert.setter
    def server_cert(self, cert: Certificate | None) -> None:
        self._set_cert(lib.OSSL_CMP_CTX_set1_srvCert, "server_cert", cert, "server_cert")

    @property
    def expected_sender(self) -> Name | None:
        """The name the server must use as sender (``set1_expected_sender``)."""
        return self._get_remembered("expected_sender", Name)

    @expected_sender.setter
    def expected_sender(self, name: Name | str | None) -> None:
        self._set_name(lib.OSSL_CMP_CTX_set1_expected_sender, "expected_sender", name,
                       "expected_sender")

    @property
    def trusted(self) -> TrustStore | None:
        """The trust store (``set0_trustedStore``/``get0_trustedStore``); shared, not
        copied: later additions to the store are seen by the context.  None when unset."""
        with self._boundary.lock:  # get0: take our reference before anyone can replace it
            ptr = self._call(lib.OSSL_CMP_CTX_get0_trustedStore)
            return None if ptr == ffi.NULL else TrustStore._borrowed(ptr)

    @trusted.setter
    def trusted(self, store: TrustStore | Iterable[Certificate] | None) -> None:
        if store is not None and not isinstance(store, TrustStore):
            if isinstance(store, Certificate):
                store = [store]
            if not isinstance(store, (list, tuple)):
                raise TypeError("trusted must be a TrustStore, a list of Certificates or None")
            store = TrustStore(store)
        if store is None:
            self._set(lib.OSSL_CMP_CTX_set0_trustedStore, "trusted store", ffi.NULL)
        else:
            self._give(lib.OSSL_CMP_CTX_set0_trustedStore, "trusted store", store)

    @property
    def untrusted(self) -> list[Certificate]:
        """Intermediate certificates for path building (grows with received extraCerts
        unless ``Option.NO_CACHE_EXTRACERTS`` is set, OpenSSL 3.3+)."""
        with self._boundary.lock:
            return certs_from_stack(self._call(lib.OSSL_CMP_CTX_get0_untrusted), owned=False)

    @untrusted.setter
    def untrusted(self, certs: Iterable[Certificate]) -> None:
        stack = CertStack(certs, "untrusted certificate")
        if not stack.certs:
            # OSSL_CMP_CTX_set1_untrusted with an empty stack leaves the context's stack
            # NULL on OpenSSL 3.0, and every later transaction fails ("passed a null
            # parameter").  Empty the context's own stack in place instead.
            # The certificates are kept (not freed) until reinit: the context may still
            # point at one of them as its validated server certificate, and OpenSSL's
            # check_msg_find_cert reads that pointer once more after dropping it.
            with self._boundary.lock:
                self._check_changeable()
                sk = self._call(lib.OSSL_CMP_CTX_get0_untrusted)
                if sk != ffi.NULL:
                    while lib.sk_X509_num(sk) > 0:
                        self._retired.append(Certificate._owned(lib.sk_X509_pop(sk)))
            return
        with stack as sk:
            self._set(lib.OSSL_CMP_CTX_set1_untrusted, "untrusted", sk)

    # -- client authentication ------------------------------------------------------------
    @property
    def cert(self) -> Certificate | None:
        """The client's protection certificate."""
        return self._get_remembered("cert", Certificate)

    @cert.setter
    def cert(self, cert: Certificate | None) -> None:
        self._set_cert(lib.OSSL_CMP_CTX_set1_cert, "cert", cert, "cert")

    def build_cert_chain(self, own_trusted: TrustStore | None = None,
                         candidates: Iterable[Certificate] = ()) -> None:
        """Build the chain of ``cert`` for extraCerts.  OpenSSL leaks the previous chain if
        called twice on one context, so a second call raises RuntimeError."""
        _check_instance(own_trusted, TrustStore, "own_trusted", allow_none=True)
        if self._values.get("chain_built"):
            raise RuntimeError("build_cert_chain may be called once per Context "
                               "(OpenSSL would leak the previous chain)")
        with self._boundary.lock, CertStack(candidates, "candidate certificate") as sk:
            self._check_changeable()
            # through _call: chain building logs, and the lines belong to this context
            if self._call(lib.OSSL_CMP_CTX_build_cert_chain,
                          ffi.NULL if own_trusted is None else own_trusted.ptr, sk) != 1:
                raise_openssl("cannot build the certificate chain")
        self._remember("chain_built", True)

    @property
    def pkey(self) -> PrivateKey | None:
        """The client's protection key (``set1_pkey``)."""
        return self._get_remembered("pkey", PrivateKey)

    @pkey.setter
    def pkey(self, key: PrivateKey | None) -> None:
        _check_instance(key, PrivateKey, "pkey", allow_none=True)
        self._set(lib.OSSL_CMP_CTX_set1_pkey, "pkey", ffi.NULL if key is None else key.ptr)
        self._remember("pkey", None if key is None else PrivateKey._borrowed(key.ptr))

    @property
    def reference_value(self) -> bytes | None:
        """senderKID for PBM (``set1_referenceValue``)."""
        return self._values.get("reference_value")

    @reference_value.setter
    def reference_value(self, ref: bytes | str | None) -> None:
        if isinstance(ref, str):
            ref = ref.encode("utf-8")
        if ref is None:
            self._set(lib.OSSL_CMP_CTX_set1_referenceValue, "reference_value", ffi.NULL, 0)
        else:
            ref = _octets(ref, "reference_value")
            self._set(lib.OSSL_CMP_CTX_set1_referenceValue, "reference_value", ref, len(ref))
        self._remember("reference_value", ref)

    @property
    def secret_value(self) -> NoReturn:
        """The PBM shared secret; write-only (reading raises AttributeError)."""
        raise AttributeError("secret_value is write-only")

    @secret_value.setter
    def secret_value(self, secret: bytes | str | None) -> None:
        """The PBM shared secret; write-only, never stored in Python."""
        if isinstance(secret, str):
            secret = secret.encode("utf-8")
        if secret is None:
            self._set(lib.OSSL_CMP_CTX_set1_secretValue, "secret_value", ffi.NULL, 0)
            return
        secret = _octets(secret, "secret_value")
        if not secret:
            raise ValueError("secret_value must not be empty (use None to clear it)")
        self._set(lib.OSSL_CMP_CTX_set1_secretValue, "secret_value", secret, len(secret))

    # -- header, extra certificates -------------------------------------------------------
    @property
    def recipient(self) -> Name | None:
        """The recipient of requests (``set1_recipient``)."""
        return self._get_remembered("recipient", Name)

    @recipient.setter
    def recipient(self, name: Name | str | None) -> None:
        self._set_name(lib.OSSL_CMP_CTX_set1_recipient, "recipient", name, "recipient")

    def _push0_itav(self, func: Callable[..., Any], itav: ITAV, what: str) -> None:
        _check_instance(itav, ITAV, what)
        self._give(func, what, itav, success=lambda rc: rc > 0)

    def push_geninfo_itav(self, itav: ITAV) -> None:
        """Add an ITAV to the generalInfo of every request header (kept across reinit)."""
        self._push0_itav(lib.OSSL_CMP_CTX_push0_geninfo_ITAV, itav, "geninfo ITAV")
        self._geninfo.append(ITAV._copied(itav.ptr))

    def reset_geninfo_itavs(self) -> None:
        """Remove the geninfo ITAVs (OpenSSL 3.0.8+)."""
        require("OSSL_CMP_CTX_reset_geninfo_ITAVs", "reset_geninfo_itavs")
        self._set(lib.OSSL_CMP_CTX_reset_geninfo_ITAVs, "geninfo reset")
        self._geninfo.clear()

    @property
    def geninfo_itavs(self) -> list[ITAV]:
        """The geninfo ITAVs pushed so far (copies)."""
        if hasattr(lib, "OSSL_CMP_CTX_get0_geninfo_ITAVs"):
            with self._boundary.lock:
                return itavs_from_stack(self._call(lib.OSSL_CMP_CTX_get0_geninfo_ITAVs),
                                        owned=False)
        return [ITAV._copied(i.ptr) for i in self._geninfo]

    @property
    def extra_certs_out(self) -> list[Certificate]:
        """Extra certificates sent with each request (``set1_extraCertsOut``)."""
        return [Certificate._borrowed(c.ptr) for c in self._values.get("extra_certs_out", ())]

    @extra_certs_out.setter
    def extra_certs_out(self, certs: Iterable[Certificate]) -> None:
        stack = CertStack(certs, "extra certificate")
        with stack as sk:
            self._set(lib.OSSL_CMP_CTX_set1_extraCertsOut, "extra_certs_out", sk)
        self._remember("extra_certs_out", [Certificate._borrowed(c.ptr) for c in stack.certs])

    # -- certificate template -------------------------------------------------------------
    def set_new_pkey(self, key: PrivateKey | PublicKey) -> None:
        """The key to certify: a PrivateKey (POPO by signature) or a PublicKey."""
        _check_instance(key, (PrivateKey, PublicKey), "new key")
        self._give(lib.OSSL_CMP_CTX_set0_newPkey, "the new key", key,
                   int(isinstance(key, PrivateKey)))

    def get_new_pkey(self, private: bool = False) -> PrivateKey | PublicKey | None:
        """The new key if set, else (public only) the p10 CSR's key, else the client key."""
        with self._boundary.lock:
            with probe():  # NULL without a key is an answer (None), not an error
                ptr = self._call(lib.OSSL_CMP_CTX_get0_newPkey, 1 if private else 0)
            if ptr == ffi.NULL:
                return None
            if private:
                return PrivateKey._borrowed(ptr)
            return PublicKey.from_der(_bio.i2d(lib.i2d_PUBKEY, ptr, "public key"))

    @property
    def central_key_generation(self) -> bool:
        """Ask the CA to generate the new key pair (RFC 9483 §4.1.6, OpenSSL 3.5+).

        When True the certificate request carries no POPO and no public key unless one is
        set with :meth:`set_new_pkey` (then it states the wanted key type); the CA returns the
        private key encrypted, for this client's key (signature-protected requests) or its
        PBM secret, and OpenSSL decrypts it: after ``exec_ir``/``exec_cr``/``exec_kur``,
        ``get_new_pkey(private=True)`` is the new private key.  Setting it to True on an
        OpenSSL older than 3.5 raises :class:`UnsupportedError` at once, before anything is
        sent (older releases would send a request without POPO and get no key back)."""
        if not hasattr(lib, "OSSL_CRMF_MSG_centralkeygen_requested"):
            return False
        return self.get_option(Option.POPO_METHOD) == _POPO_NONE

    @central_key_generation.setter
    def central_key_generation(self, value: bool) -> None:
        if not isinstance(value, bool):
            raise TypeError("central_key_generation must be bool, not %s"
                            % type(value).__name__)
        if value:
            require("OSSL_CRMF_MSG_centralkeygen_requested", "central key generation")
            self.set_option(Option.POPO_METHOD, _POPO_NONE)
        elif self.central_key_generation:
            self.set_option(Option.POPO_METHOD, _POPO_SIGNATURE)

    @property
    def issuer(self) -> Name | None:
        """The issuer for the certificate template (``set1_issuer``)."""
        return self._get_remembered("issuer", Name)

    @issuer.setter
    def issuer(self, name: Name | str | None) -> None:
        self._set_name(lib.OSSL_CMP_CTX_set1_issuer, "issuer", name, "issuer")

    @property
    def subject_name(self) -> Name | None:
        """The subject for the certificate template (``set1_subjectName``)."""
        return self._get_remembered("subject_name", Name)

    @subject_name.setter
    def subject_name(self, name: Name | str | None) -> None:
        self._set_name(lib.OSSL_CMP_CTX_set1_subjectName, "subject_name", name,
                       "subject_name")

    @property
    def serial_number(self) -> int | None:
        """The serial number for RR without oldCert (OpenSSL 3.2+)."""
        require("OSSL_CMP_CTX_set1_serialNumber", "Context.serial_number")
        return self._values.get("serial_number")

    @serial_number.setter
    def serial_number(self, serial: int | None) -> None:
        if serial is not None and (isinstance(serial, bool) or not isinstance(serial, int)):
            raise TypeError("serial_number must be int or None")
        require("OSSL_CMP_CTX_set1_serialNumber", "Context.serial_number")
        if serial is None:
            self._set(lib.OSSL_CMP_CTX_set1_serialNumber, "serial_number", ffi.NULL)
        else:
            asn1 = int_to_asn1_integer(serial)
            try:
                self._set(lib.OSSL_CMP_CTX_set1_serialNumber, "serial_number", asn1)
            finally:
                lib.ASN1_INTEGER_free(asn1)
        self._remember("serial_number", serial)

    def push_subject_alt_name(self, name: GeneralName | str) -> None:
        """Add a subjectAltName (``GeneralName`` or ``"DNS:a.example"``)."""
        gen = as_general_name(name)
        self._push(lib.OSSL_CMP_CTX_push1_subjectAltName, "subject alt name %s" % gen, gen.ptr)

    @property
    def req_extensions(self) -> Extensions | None:
        """Extensions to request (``set0_reqExtensions``); a copy."""
        value = self._values.get("req_extensions")
        return None if value is None else Extensions.from_der(value.to_der())

    @req_extensions.setter
    def req_extensions(self, exts: Extensions | dict[str, str] | None) -> None:
        if isinstance(exts, dict):
            exts = Extensions(exts)
        _check_instance(exts, Extensions, "req_extensions", allow_none=True)
        with self._boundary.lock:
            if exts is None:
                self._set(lib.OSSL_CMP_CTX_set0_reqExtensions, "req_extensions", ffi.NULL)
            else:
                self._give(lib.OSSL_CMP_CTX_set0_reqExtensions, "req_extensions", exts)
            self._remember("req_extensions", None if exts is None else exts.copy())

    def req_extensions_have_san(self) -> bool:
        """Whether ``req_extensions`` holds a subjectAltName."""
        result = self._call(lib.OSSL_CMP_CTX_reqExtensions_have_SAN)
        if result < 0:
            raise_openssl("cannot inspect req_extensions")
        return bool(result)

    def push_policy(self, policy: PolicyInfo | str) -> None:
        """Add a certificate policy (a ``PolicyInfo`` or its OID) to the template."""
        if isinstance(policy, str):
            policy = PolicyInfo(policy)
        _check_instance(policy, PolicyInfo, "policy")
        # push0_policy returns the stack's new size on success, not 1
        self._give(lib.OSSL_CMP_CTX_push0_policy, "policy", policy,
                   success=lambda rc: rc > 0)

    @property
    def old_cert(self) -> Certificate | None:
        """The certificate to update (KUR) or revoke (RR)."""
        return self._get_remembered("old_cert", Certificate)

    @old_cert.setter
    def old_cert(self, cert: Certificate | None) -> None:
        self._set_cert(lib.OSSL_CMP_CTX_set1_oldCert, "old_cert", cert, "old_cert")

    @property
    def p10_csr(self) -> CSR | None:
        """The PKCS#10 request for P10CR (``set1_p10CSR``)."""
        return self._get_remembered("p10_csr", CSR)

    @p10_csr.setter
    def p10_csr(self, csr: CSR | None) -> None:
        _check_instance(csr, CSR, "p10_csr", allow_none=True)
        self._set(lib.OSSL_CMP_CTX_set1_p10CSR, "p10_csr", ffi.NULL if csr is None else csr.ptr)
        self._remember("p10_csr", None if csr is None else CSR._copied(csr.ptr))

    def push_genm_itav(self, itav: ITAV) -> None:
        """Add an ITAV to the next GENM (cleared by reinit)."""
        self._push0_itav(lib.OSSL_CMP_CTX_push0_genm_ITAV, itav, "genm ITAV")

    def setup_crm(self, for_kur: bool = False, cert_req_id: int = 0) -> CertRequest:
        """The CRMF request the context would send, for inspection or editing."""
        return CertRequest._owned(self._call(lib.OSSL_CMP_CTX_setup_CRM, int(bool(for_kur)),
                                             cert_req_id), "cannot set up a CRMF request")

    # -- certificate confirmation ---------------------------------------------------------
    @property
    def cert_conf_callback(self) -> CertConfCallback | None:
        """callable(ctx, cert, fail_info: FailInfo) -> int | (int, str): 0 accepts the new
        certificate, FailInfo bits reject it (the text goes to the server)."""
        return self._boundary.state.cert_conf_callback

    @cert_conf_callback.setter
    def cert_conf_callback(self, callback: CertConfCallback | None) -> None:
        if callback is not None and not callable(callback):
            raise TypeError("cert_conf_callback must be callable or None")
        with self._boundary.lock:
            if callback is None:
                self._set(lib.OSSL_CMP_CTX_set_certConf_cb, "certConf callback", ffi.NULL)
                self._set(lib.OSSL_CMP_CTX_set_certConf_cb_arg, "certConf arg", ffi.NULL)
            else:
                self._set(lib.OSSL_CMP_CTX_set_certConf_cb_arg, "certConf arg",
                          self._state_handle)
                self._set(lib.OSSL_CMP_CTX_set_certConf_cb, "certConf callback",
                          lib.ocmp_certconf_cb)
            self._boundary.state.cert_conf_callback = callback

    @property
    def cert_conf_callback_arg(self) -> object:
        """Any Python object for the callback; a TrustStore here is what
        :func:`default_cert_conf` verifies the new certificate against."""
        return self._boundary.state.cert_conf_callback_arg

    @cert_conf_callback_arg.setter
    def cert_conf_callback_arg(self, arg: object) -> None:
        self._boundary.state.cert_conf_callback_arg = arg

    # -- results --------------------------------------------------------------------------
    @property
    def status(self) -> PKIStatus | int:
        """PKIStatus of the last response (UNSPECIFIED before any); a plain int for a
        value the enum lacks (a pseudo-status of a newer OpenSSL)."""
        value: int = self._call(lib.OSSL_CMP_CTX_get_status)
        try:
            return PKIStatus(value)
        except ValueError:
            return value

    @property
    def status_strings(self) -> list[str]:
        """The status texts of the last response."""
        with self._boundary.lock:
            sk = self._call(lib.OSSL_CMP_CTX_get0_statusString)
            if sk == ffi.NULL:
                return []
            return [asn1_string_bytes(lib.sk_ASN1_UTF8STRING_value(sk, i)).decode(
                "utf-8", "replace") for i in range(lib.sk_ASN1_UTF8STRING_num(sk))]

    @property
    def fail_info(self) -> FailInfo | None:
        """PKIFailureInfo bits of the last response; None when unset."""
        value = self._call(lib.OSSL_CMP_CTX_get_failInfoCode)
        return None if value < 0 else FailInfo(value)

    def status_text(self) -> str | None:
        """OpenSSL's one-line summary of the last response, e.g.
        ``PKIStatus: rejection; PKIFailureInfo: badRequest; StatusString: "no"``; None
        before any response."""
        if self._call(lib.OSSL_CMP_CTX_get_status) < 0:
            return None
        buf = ffi.new("char[]", lib.OSSL_CMP_PKISI_BUFLEN)
        if self._call(lib.OSSL_CMP_CTX_snprint_PKIStatus, buf, lib.OSSL_CMP_PKISI_BUFLEN) \
                == ffi.NULL:
            raise_openssl("cannot print the status")
        return ffi.string(buf).decode("utf-8", "replace")

    @property
    def validated_server_cert(self) -> Certificate | None:
        """The server certificate that validated the last response (OpenSSL 3.2+)."""
        require("OSSL_CMP_CTX_get0_validatedSrvCert", "Context.validated_server_cert")
        with self._boundary.lock:
            ptr = self._call(lib.OSSL_CMP_CTX_get0_validatedSrvCert)
            return None if ptr == ffi.NULL else Certificate._borrowed(ptr)

    @property
    def new_cert(self) -> Certificate | None:
        """The certificate the last transaction obtained, or None."""
        with self._boundary.lock:
            ptr = self._call(lib.OSSL_CMP_CTX_get0_newCert)
            return None if ptr == ffi.NULL else Certificate._borrowed(ptr)

    @property
    def new_chain(self) -> list[Certificate]:
        """The chain of ``new_cert`` (OpenSSL's ``get1_newChain``)."""
        return certs_from_stack(self._call(lib.OSSL_CMP_CTX_get1_newChain), owned=True)

    @property
    def ca_pubs(self) -> list[Certificate]:
        """The CA certificates the server sent in caPubs."""
        return certs_from_stack(self._call(lib.OSSL_CMP_CTX_get1_caPubs), owned=True)

    @property
    def extra_certs_in(self) -> list[Certificate]:
        """The extraCerts of the last response."""
        return certs_from_stack(self._call(lib.OSSL_CMP_CTX_get1_extraCertsIn), owned=True)

    # -- testing and debugging ------------------------------------------------------------
    def _set_octets(self, func: Callable[..., Any], key: str, value: BytesLike | None,
                    what: str) -> None:
        if value is None:
            self._set(func, what, ffi.NULL)
        else:
            value = _octets(value, what)
            octets = lib.ASN1_OCTET_STRING_new()
            if octets == ffi.NULL or lib.ASN1_OCTET_STRING_set(octets, value, len(value)) != 1:
                lib.ASN1_OCTET_STRING_free(octets)
                raise_openssl("cannot build %s" % what)
            try:
                self._set(func, what, octets)
            finally:
                lib.ASN1_OCTET_STRING_free(octets)  # set1 copied it
        self._remember(key, value)

    @property
    def transaction_id(self) -> bytes | None:
        """The transactionID set through this object (for tests), or None."""
        return self._values.get("transaction_id")

    @transaction_id.setter
    def transaction_id(self, tid: BytesLike | None) -> None:
        self._set_octets(lib.OSSL_CMP_CTX_set1_transactionID, "transaction_id", tid,
                         "transaction_id")

    @property
    def sender_nonce(self) -> bytes | None:
        """The senderNonce set through this object (for tests), or None."""
        return self._values.get("sender_nonce")

    @sender_nonce.setter
    def sender_nonce(self, nonce: BytesLike | None) -> None:
        self._set_octets(lib.OSSL_CMP_CTX_set1_senderNonce, "sender_nonce", nonce,
                         "sender_nonce")

    # -- sessions -------------------------------------------------------------------------
    def _failure(self, what: str) -> CMPError:
        """A CMPError for a failed transaction, from the drained queue and the context
        (under the lock, which every exec_* holds)."""
        errors = drain()
        ptr = self.ptr
        # plain reads of two fields: they call nothing back and queue nothing
        status: PKIStatus | int = lib.OSSL_CMP_CTX_get_status(ptr)
        fail: int = lib.OSSL_CMP_CTX_get_failInfoCode(ptr)
        try:
            status = PKIStatus(status)
        except ValueError:
            pass
        # OpenSSL keeps only valid statuses (0..6, all PKIStatus members) in the context
        server_status = status if isinstance(status, PKIStatus) and status >= 0 else None
        # our own certConf callback said no: OpenSSL reports that as status "rejection" too
        by_client = any(e.lib_code == lib.ERR_LIB_CMP
                        and e.reason_code == lib.CMP_R_CERTIFICATE_NOT_ACCEPTED
                        for e in errors)
        cause = _diagnose.hint(errors, what, server=self._values.get("server"),
                               port=self._values.get("server_port"))
        message = "%s failed" % what if cause is None else "%s failed: %s" % (what, cause)
        exc = CMPError(message, errors, status=server_status,
                       fail_info=FailInfo(fail) if fail > 0 else None,
                       status_strings=self.status_strings if server_status is not None
                       else (), rejected_by_client=by_client)
        exc.transcript = list(self._transcript)
        return exc

    @staticmethod
    def _crm_arg(crm: CertRequest | None) -> CData:
        _check_instance(crm, CertRequest, "crm", allow_none=True)
        return ffi.NULL if crm is None else crm.ptr

    def exec_certreq(self, req_type: ReqType | int,
                     crm: CertRequest | None = None) -> Certificate:
        """Run an IR/CR/P10CR/KUR transaction (polling included); return the new
        certificate.  Raises CMPError on failure, a server rejection included."""
        req_type = _as_req_type(req_type)
        crm_c = ffi.NULL if crm is None else self._crm_arg(crm)
        with self._boundary.lock:
            self._check_changeable()
            self._transcript.clear()
            cert = self._call(lib.OSSL_CMP_exec_certreq, req_type, crm_c)
            if cert == ffi.NULL:
                raise self._failure(req_type.name)
            # the context owns the result until reinit/free: take our own reference
            return Certificate._borrowed(cert)

    def exec_ir(self) -> Certificate:
        """Run an IR (initialization request) transaction; see :meth:`exec_certreq`."""
        return self.exec_certreq(ReqType.IR)

    def exec_cr(self) -> Certificate:
        """Run a CR (certificate request) transaction; see :meth:`exec_certreq`."""
        return self.exec_certreq(ReqType.CR)

    def exec_p10cr(self) -> Certificate:
        """Run a P10CR (PKCS#10) transaction; see :meth:`exec_certreq`."""
        return self.exec_certreq(ReqType.P10CR)

    def exec_kur(self) -> Certificate:
        """Run a KUR (key update) transaction; see :meth:`exec_certreq`."""
        return self.exec_certreq(ReqType.KUR)

    def try_certreq(self, req_type: ReqType | int,
                    crm: CertRequest | None = None) -> tuple[Certificate | None, int]:
        """One step of a request with polling under the caller's control.

        Returns ``(certificate, 0)`` when done, ``(None, check_after)`` while the server
        says "waiting" (call again after ``check_after`` seconds).  A negative
        ``req_type`` aborts the pending request (returns ``(None, 0)``)."""
        req: ReqType | int
        if isinstance(req_type, int) and not isinstance(req_type, bool) and req_type < 0:
            req = -1
        else:
            req = _as_req_type(req_type)
        crm_c = self._crm_arg(crm)
        check_after = ffi.new("int *")
        with self._boundary.lock:
            self._check_changeable()
            result = self._call(lib.OSSL_CMP_try_certreq, req, crm_c, check_after)
            if result == 0:
                raise self._failure("try_certreq")
            if result < 0:
                waiting: int = check_after[0]
                return None, waiting
            cert = self._call(lib.OSSL_CMP_CTX_get0_newCert)
            return (None if cert == ffi.NULL else Certificate._borrowed(cert)), 0

    def exec_rr(self) -> None:
        """Revoke ``old_cert`` (or the certificate named by issuer/serial_number)."""
        with self._boundary.lock:
            self._check_changeable()
            self._transcript.clear()
            if self._call(lib.OSSL_CMP_exec_RR_ses) != 1:
                raise self._failure("RR")

    def exec_genm(self) -> list[ITAV]:
        """Send a GENM with the ITAVs pushed by ``push_genm_itav``; return the GENP ITAVs."""
        with self._boundary.lock:
            self._check_changeable()
            self._transcript.clear()
            sk = self._call(lib.OSSL_CMP_exec_GENM_ses)
            if sk == ffi.NULL:
                raise self._failure("GENM")
            return itavs_from_stack(sk, owned=True)

    # -- support operations (RFC 9483 §4.3; see openssl_cmp.support) ---------------------
    def get_ca_certs(self) -> list[Certificate]:
        """The CA certificates the server offers (id-it-caCerts, RFC 9483 §4.3.1), each
        checked to be a CA certificate within its validity period; [] when it offers none.
        One GENM transaction (call ``reinit()`` before another); on every OpenSSL."""
        return support.get_ca_certs(self)

    def get_root_ca_key_update(self, old_root: Certificate | None = None
                               ) -> RootCaKeyUpdate | None:
        """A root CA key update (RFC 9483 §4.3.2): the new root and the link certificates,
        the new root validated with ``old_root`` (else the trust store) as OpenSSL does;
        None when the server has no update.  On every OpenSSL."""
        return support.get_root_ca_key_update(self, old_root)

    def get_cert_req_template(self) -> CertReqTemplate | None:
        """The CA's certificate request template (RFC 9483 §4.3.3), or None.  On every
        OpenSSL."""
        return support.get_cert_req_template(self)

    def get_crl_update(self, cert: Certificate | None = None,
                       old_crl: CRL | None = None) -> CRL | None:
        """A newer CRL than ``old_crl`` / for ``cert`` (RFC 9483 §4.3.4), or None.  On
        every OpenSSL."""
        return support.get_crl_update(self, cert, old_crl)

    @property
    def cert_profile(self) -> str | None:
        """The certificate profile requested (id-it-certProfile in the generalInfo of each
        request, RFC 9483 §3.4); None for none.  Setting it replaces a previous profile
        and keeps the other geninfo ITAVs."""
        for itav in self.geninfo_itavs:
            if itav.type == _CERT_PROFILE_OID:
                return itavs.get_cert_profile(itav)
        return None

    @cert_profile.setter
    def cert_profile(self, profile: str | None) -> None:
        if profile is not None and not isinstance(profile, str):
            raise TypeError("cert_profile must be a str or None, not %s"
                            % type(profile).__name__)
        new = None if profile is None else itavs.new_cert_profile(profile)  # validates
        with self._boundary.lock:
            self._check_changeable()
            current = self.geninfo_itavs
            others = [i for i in current if i.type != _CERT_PROFILE_OID]
            if len(others) != len(current):  # replace the profile set before
                self.reset_geninfo_itavs()  # UnsupportedError before 3.0.8: nothing changed
                for itav in others:
                    self.push_geninfo_itav(itav)
            if new is not None:
                self.push_geninfo_itav(new)


def _as_req_type(req_type: object) -> ReqType:
    if type(req_type) is ReqType:
        return req_type
    if isinstance(req_type, bool) or not isinstance(req_type, int):
        raise TypeError("req_type must be a ReqType, not %s" % type(req_type).__name__)
    try:
        return ReqType(req_type)
    except ValueError:
        raise ValueError("req_type must be IR, CR, P10CR or KUR, not %r" % (req_type,)) from None


def default_cert_conf(ctx: Context, cert: Certificate,
                      fail_info: int) -> tuple[int, str | None]:
    """OpenSSL's default certConf check (``OSSL_CMP_certConf_cb``), for use inside a
    ``cert_conf_callback``: verifies ``cert`` against ``ctx.cert_conf_callback_arg`` when
    that is a TrustStore, and returns ``(fail_info, text)``."""
    _check_instance(ctx, Context, "ctx")
    _check_instance(cert, Certificate, "cert")
    if isinstance(fail_info, bool) or not isinstance(fail_info, int):
        raise TypeError("fail_info must be int")
    if not 0 <= fail_info < (1 << 27):
        raise ValueError("fail_info has bits outside PKIFailureInfo: %#x" % fail_info)
    store = ctx.cert_conf_callback_arg
    txt = ffi.new("const char **")
    with ctx._boundary.lock:
        ptr = ctx.ptr
        # > 0: called from a callback of a call on ctx, which re-raises what is stored
        outer = ctx._boundary.depth
        # OSSL_CMP_certConf_cb reads the context's certConf arg as an X509_STORE *: put
        # the store there for the duration of the call, then our handle back.
        c_store = store.ptr if isinstance(store, TrustStore) else ffi.NULL
        lib.OSSL_CMP_CTX_set_certConf_cb_arg(ptr, c_store)
        try:
            # a certificate that does not verify is an answer (failure bits), not an error;
            # probed, not cleared: called from a cert_conf_callback, the transaction in
            # progress keeps what it queued
            with probe(), ctx._boundary.running():
                result = lib.OSSL_CMP_certConf_cb(ptr, cert.ptr, fail_info, txt)
        finally:
            restore = ctx._state_handle if ctx._boundary.state.cert_conf_callback else ffi.NULL
            lib.OSSL_CMP_CTX_set_certConf_cb_arg(ptr, restore)
        if not outer:  # a log callback failed during the check: nobody else re-raises it
            ctx._boundary.raise_stored()
    text = None if txt[0] == ffi.NULL else ffi.string(txt[0]).decode("utf-8", "replace")
    bits: int = result
    return bits, text

