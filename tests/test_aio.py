"""``openssl_cmp.aio``: awaitable sessions; polling (RFC 9483 section 4.4) with
``asyncio.sleep``; cancellation ends the transaction with an error message (RFC 4210
section 5.3.21) so that the server keeps no open transaction."""

from __future__ import annotations

import asyncio
import time

import pytest

from openssl_cmp import CMPError, Context, ITAV, Option, PKIStatus, PrivateKey, aio
from openssl_cmp.testing import MockCA

TIMEOUT = 60
SIGN_KEY_PAIR_TYPES = "1.3.6.1.5.5.7.4.2"


def test_enroll_with_polling_and_support_operations():
    mock = MockCA(poll_count=2, check_after=0, protect_with_cert=True)

    async def main():
        key = PrivateKey.generate("EC")
        with mock.client(new_pkey=key, subject_name="/CN=aio") as ctx:
            cert = await aio.exec_ir(ctx)
            assert cert in mock.issued and cert.public_key() == \
                ctx.get_new_pkey().public_key()
            ctx.reinit()
            assert await aio.get_ca_certs(ctx) in ([], [mock.ca_cert])
            ctx.reinit()
            ctx.push_genm_itav(ITAV(SIGN_KEY_PAIR_TYPES))
            assert [i.type for i in await aio.exec_genm(ctx)] == [SIGN_KEY_PAIR_TYPES]
            ctx.reinit()
            ctx.secret_value = None  # RR signed by the holder (RFC 9483 4.2)
            ctx.cert, ctx.pkey, ctx.old_cert = cert, key, cert
            await aio.exec_rr(ctx)
        return cert

    cert = asyncio.run(main())
    assert mock.is_revoked(cert) and mock.open_transactions == 0


def test_errors_and_arguments():
    mock = MockCA(pkistatus=PKIStatus.REJECTION, fail_info=1 << 2)  # badRequest, always

    async def main():
        with mock.client(new_pkey=PrivateKey.generate("EC"), subject_name="/CN=x") as ctx:
            with pytest.raises(CMPError):
                await aio.exec_cr(ctx)
        with pytest.raises(TypeError):
            await aio.exec_certreq("not a context")
        closed = Context()
        closed.close()
        with pytest.raises(ValueError):
            await aio.exec_ir(closed)
        with pytest.raises(TypeError):
            await aio.exec_certreq(Context(), "ir")

    asyncio.run(main())
    with pytest.raises(ValueError):
        aio.set_max_in_flight(0)
    with pytest.raises(TypeError):
        aio.set_max_in_flight(True)


def test_bound_in_flight_is_settable():
    before = aio.max_in_flight()
    try:
        aio.set_max_in_flight(2)
        assert aio.max_in_flight() == 2
        mock = MockCA()

        async def main():
            ctxs = [mock.client(new_pkey=PrivateKey.generate("EC"), subject_name="/CN=b%d" % i)
                    for i in range(6)]
            try:
                return await asyncio.gather(*(aio.exec_ir(c) for c in ctxs))
            finally:
                for c in ctxs:
                    c.close()

        assert len(asyncio.run(main())) == 6
    finally:
        aio.set_max_in_flight(before)


def test_thousand_concurrent_enrollments_loop_stays_responsive(record_property):
    """1,000 enrollments with one poll each from one event loop; a timer task measures
    how late the loop wakes it (reported, not asserted: no timing thresholds)."""
    mock = MockCA(poll_count=1, check_after=0, allow_key_reuse=True)
    key = PrivateKey.generate("EC")
    n = 1000

    async def ticker(stop, lags):
        while not stop.is_set():
            start = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - start - 0.01)

    async def main():
        ctxs = [mock.client(new_pkey=key, subject_name="/CN=many") for _ in range(n)]
        stop = asyncio.Event()
        lags = []
        timer = asyncio.create_task(ticker(stop, lags))
        try:
            started = time.perf_counter()
            certs = await asyncio.gather(*(aio.exec_ir(c) for c in ctxs))
            elapsed = time.perf_counter() - started
        finally:
            stop.set()
            await timer
            for c in ctxs:
                c.close()
        return certs, lags, elapsed

    certs, lags, elapsed = asyncio.run(main())
    assert len(certs) == n and len({c.serial_number for c in certs}) == n
    assert lags  # the timer ran while the enrollments were in flight
    worst = max(lags)
    record_property("max_timer_lag_ms", round(worst * 1000, 1))
    print("\n1000 aio enrollments in %.2f s; timer lag max %.1f ms, median %.1f ms"
          % (elapsed, worst * 1000, sorted(lags)[len(lags) // 2] * 1000))
    assert mock.open_transactions == 0


@pytest.mark.parametrize("where", ["sleeping", "in_c_call"])
def test_cancel_mid_poll_closes_the_transaction(where):
    """Cancelling while the server holds the request (waiting, checkAfter 60 s) sends an
    error message; the server answers pkiConf and keeps no open transaction."""
    mock = MockCA(poll_count=5, check_after=60)
    received = []
    handle_error = mock.handle_error

    def recording_error(request, status, code, details):
        received.append(status)
        return handle_error(request, status, code, details)

    mock.handle_error = recording_error
    with mock.serve_http() as http:
        async def main():
            with Context() as ctx:
                ctx.set_url(http.url)
                ctx.set_option(Option.TOTAL_TIMEOUT, TIMEOUT)
                ctx.reference_value = b"aio"
                ctx.secret_value = mock.secret
                ctx.set_new_pkey(PrivateKey.generate("EC"))
                ctx.subject_name = "/CN=cancelled"
                task = asyncio.create_task(aio.exec_ir(ctx))
                deadline = time.monotonic() + TIMEOUT
                if where == "sleeping":
                    while mock.open_transactions == 0:  # the IR was answered "waiting"
                        assert time.monotonic() < deadline
                        await asyncio.sleep(0.01)
                    await asyncio.sleep(0.05)  # now in asyncio.sleep(60)
                else:
                    await asyncio.sleep(0)  # the IR's C call has started (or is queued)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                assert time.monotonic() < deadline  # not the 60 s poll interval

        asyncio.run(main())
        assert mock.open_transactions == 0
        assert len(received) == 1 and mock.issued == []
        assert http.errors == []


def test_tasks_beyond_the_bound_wait_on_the_loop_not_in_the_pool():
    """With the bound at 2, six enrollments never put more than 2 calls into the pool at
    once (the others wait at the loop's gate); one cancelled at the gate starts nothing."""
    before = aio.max_in_flight()
    inside, most = [0], [0]
    release = None

    class Counting(MockCA):
        def handle_cert_request(self, *args):
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            release.wait(TIMEOUT)  # hold the call until every task has been started
            inside[0] -= 1
            return super().handle_cert_request(*args)

    try:
        aio.set_max_in_flight(2)
        mock = Counting()

        async def main():
            nonlocal release
            import threading
            release = threading.Event()
            ctxs = [mock.client(new_pkey=PrivateKey.generate("EC"), subject_name="/CN=g%d" % i)
                    for i in range(7)]
            try:
                tasks = [asyncio.ensure_future(aio.exec_ir(c)) for c in ctxs]
                await asyncio.sleep(0.2)
                assert aio._executor()._work_queue.qsize() == 0  # nothing queued in the pool
                tasks[-1].cancel()  # still at the gate
                release.set()
                results = await asyncio.gather(*tasks, return_exceptions=True)
            finally:
                for c in ctxs:
                    c.close()
            return results

        results = asyncio.run(main())
        assert all(r.serial_number for r in results[:6])
        assert isinstance(results[6], asyncio.CancelledError)
        assert most[0] <= 2 and len(mock.issued) == 6 and mock.open_transactions == 0
    finally:
        aio.set_max_in_flight(before)
