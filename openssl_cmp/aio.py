"""Awaitable CMP sessions for asyncio programs: ``cert = await aio.exec_ir(ctx)``.

Every C call of a session runs on a worker thread of one shared pool of ``max_in_flight()``
threads (16 by default; :func:`set_max_in_flight` changes it), so at most that many OpenSSL
calls are in flight whatever the number of tasks, and the event loop never blocks:

* Enrollment (:func:`exec_ir`, :func:`exec_cr`, :func:`exec_p10cr`, :func:`exec_kur`,
  :func:`exec_certreq`) goes step by step through ``Context.try_certreq``; while the server
  says "waiting" (RFC 9483 section 4.4, polling) the task waits with ``asyncio.sleep`` for
  the ``checkAfter`` seconds the server asked for.
* Cancelling a task ends its transaction cleanly.  A C call already running cannot be
  interrupted: the task waits for it to return (a second cancellation does not cut this
  short; the clean-up goes on in the background).  If the transaction is then waiting
  for a certificate, it is aborted with ``OSSL_CMP_try_certreq(req_type=-1)``, which
  sends the server an error message (status rejection, "polling aborted", RFC 4210
  section 5.3.21) and takes its pkiConf: the server closes the transaction.  Then the
  ``CancelledError`` propagates.
* The other operations (:func:`exec_rr`, :func:`exec_genm`, :func:`get_ca_certs`,
  :func:`get_root_ca_key_update`, :func:`get_cert_req_template`, :func:`get_crl_update`)
  are one C call each, run the same way.

A Context is driven by one task at a time, as by one thread at a time in synchronous code.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import threading
import weakref
from typing import Any, Callable, TypeVar

from openssl_cmp.context import Context
from openssl_cmp.enums import ReqType
from openssl_cmp.itavs import CertReqTemplate, RootCaKeyUpdate
from openssl_cmp.message import ITAV, CertRequest
from openssl_cmp.objects import CRL, Certificate

__all__ = ["exec_certreq", "exec_ir", "exec_cr", "exec_p10cr", "exec_kur", "exec_rr",
           "exec_genm", "get_ca_certs", "get_root_ca_key_update", "get_cert_req_template",
           "get_crl_update", "max_in_flight", "set_max_in_flight", "MAX_IN_FLIGHT"]

logger: logging.Logger = logging.getLogger("openssl_cmp.aio")

MAX_IN_FLIGHT = 16
"""Default bound on the C calls in flight (threads of the shared pool)."""

_T = TypeVar("_T")
_lock = threading.Lock()
_pool: concurrent.futures.ThreadPoolExecutor | None = None
_limit = MAX_IN_FLIGHT
_cleanups: set[asyncio.Future[None]] = set()  # clean-ups outliving a cancelled task
# per event loop: (the limit it was made for, the gate the tasks pass before the pool)
_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop,
                                  tuple[int, asyncio.Semaphore]] = weakref.WeakKeyDictionary()


def max_in_flight() -> int:
    """The bound on C calls in flight for all event loops of this process."""
    return _limit


def set_max_in_flight(limit: int) -> None:
    """Change the bound (1 to 1024).  Calls in flight finish on the old pool."""
    global _pool, _limit
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise TypeError("limit must be int, not %s" % type(limit).__name__)
    if not 1 <= limit <= 1024:
        raise ValueError("limit must be between 1 and 1024, not %d" % limit)
    with _lock:
        old, _pool, _limit = _pool, None, limit
    if old is not None:
        old.shutdown(wait=False)


def _executor() -> concurrent.futures.ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = concurrent.futures.ThreadPoolExecutor(
                _limit, thread_name_prefix="openssl_cmp-aio")
        return _pool


def _gate(loop: asyncio.AbstractEventLoop) -> asyncio.Semaphore:
    """The loop's gate: at most ``max_in_flight()`` of its tasks hand a call to the pool.
    The others wait on the loop (a cheap future each) instead of in the pool's queue: a
    burst of tasks costs the loop little, and each call is submitted only when a thread is
    free for it."""
    with _lock:
        entry = _gates.get(loop)
        if entry is None or entry[0] != _limit:
            entry = (_limit, asyncio.Semaphore(_limit))
            _gates[loop] = entry
        return entry[1]


def _check(ctx: object) -> Context:
    if not isinstance(ctx, Context):
        raise TypeError("ctx must be an openssl_cmp.Context, not %s" % type(ctx).__name__)
    if ctx.closed:
        raise ValueError("the Context is closed")
    return ctx


async def _settle(future: asyncio.Future[Any],
                  then: Callable[[Any], Any] | None = None) -> None:
    """After a cancellation: wait for the C call ``future`` (uninterruptible), then run
    ``then(result)`` (None after an exception) on the pool; shielded, so that a second
    cancellation leaves the clean-up running in the background."""
    async def settle() -> None:
        try:
            result = await future
        except Exception:  # noqa: BLE001 - the operation is being cancelled anyway
            result = None
        if then is not None:
            try:
                await asyncio.get_running_loop().run_in_executor(_executor(), then, result)
            except Exception as exc:  # noqa: BLE001 - logged: nobody awaits the task
                logger.warning("cleaning up a cancelled CMP transaction failed: %s", exc)

    task = asyncio.ensure_future(settle())
    _cleanups.add(task)
    task.add_done_callback(_cleanups.discard)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        pass  # cancelled again: the clean-up goes on; the first cancellation is raised


async def _call(fn: Callable[..., _T], *args: Any,
                abort: Callable[[Any], Any] | None = None) -> _T:
    """``fn(*args)`` on the pool once the loop's gate lets it; on cancellation, let it
    end and run ``abort(result)`` (cancelled at the gate: nothing was started)."""
    loop = asyncio.get_running_loop()
    gate = _gate(loop)
    await gate.acquire()
    try:
        future = loop.run_in_executor(_executor(), functools.partial(fn, *args))
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            await _settle(future, abort)
            raise
    finally:
        gate.release()


def _abort_if_waiting(ctx: Context) -> Callable[[Any], None]:
    def abort(step: tuple[Certificate | None, int] | None) -> None:
        if step is not None and step[0] is None:  # the server is holding a request
            ctx.try_certreq(-1)
    return abort


async def exec_certreq(ctx: Context, req_type: ReqType | int = ReqType.IR,
                       crm: CertRequest | None = None) -> Certificate:
    """Run an IR/CR/P10CR/KUR transaction, polling with ``asyncio.sleep``; return the new
    certificate.  Raises :class:`~openssl_cmp.CMPError` as ``Context.exec_certreq``."""
    _check(ctx)
    if isinstance(req_type, bool) or not isinstance(req_type, int) or req_type < 0:
        raise TypeError("req_type must be a ReqType")
    req_type = ReqType(req_type)
    abort = _abort_if_waiting(ctx)
    while True:
        cert, check_after = await _call(ctx.try_certreq, req_type, crm, abort=abort)
        if cert is not None:
            return cert
        try:
            await asyncio.sleep(max(0, check_after))
        except asyncio.CancelledError:
            # no C call in flight: abort the waiting request now (shielded, as above)
            done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            done.set_result((None, check_after))
            await _settle(done, abort)
            raise


async def exec_ir(ctx: Context) -> Certificate:
    """An initialization request (IR), awaited."""
    return await exec_certreq(ctx, ReqType.IR)


async def exec_cr(ctx: Context) -> Certificate:
    """A certification request (CR), awaited."""
    return await exec_certreq(ctx, ReqType.CR)


async def exec_p10cr(ctx: Context) -> Certificate:
    """A PKCS#10 certification request (P10CR), awaited."""
    return await exec_certreq(ctx, ReqType.P10CR)


async def exec_kur(ctx: Context) -> Certificate:
    """A key update request (KUR), awaited."""
    return await exec_certreq(ctx, ReqType.KUR)


async def exec_rr(ctx: Context) -> None:
    """A revocation request (RR) for ``ctx.old_cert``, awaited."""
    await _call(_check(ctx).exec_rr)


async def exec_genm(ctx: Context) -> list[ITAV]:
    """A general message (GENM) with the ITAVs pushed on ``ctx``; the GENP's ITAVs."""
    return await _call(_check(ctx).exec_genm)


async def get_ca_certs(ctx: Context) -> list[Certificate]:
    """The CA certificates the server offers (RFC 9483 section 4.3.1), awaited."""
    return await _call(_check(ctx).get_ca_certs)


async def get_root_ca_key_update(ctx: Context, old_root: Certificate | None = None
                                 ) -> RootCaKeyUpdate | None:
    """The root CA key update (RFC 9483 section 4.3.2), awaited."""
    return await _call(_check(ctx).get_root_ca_key_update, old_root)


async def get_cert_req_template(ctx: Context) -> CertReqTemplate | None:
    """The certificate request template (RFC 9483 section 4.3.3), awaited."""
    return await _call(_check(ctx).get_cert_req_template)


async def get_crl_update(ctx: Context, cert: Certificate | None = None,
                         old_crl: CRL | None = None) -> CRL | None:
    """The CRL update (RFC 9483 section 4.3.4), awaited."""
    return await _call(_check(ctx).get_crl_update, cert, old_crl)

