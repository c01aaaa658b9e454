"""Many enrollments at once: :func:`enroll_many`.

Each job is a :class:`~openssl_cmp.Context` set up for its enrollment (server, credentials,
subject, new key …).  The jobs run on a pool of threads: OpenSSL's calls release the GIL,
so the transactions overlap on the network and on the cores, and a context is only ever
driven by the one thread that took its job.  One job's failure is that job's result; it
never stops the others.
"""

from __future__ import annotations

import concurrent.futures
from typing import Callable, Iterable, Union, cast

from openssl_cmp.context import Context
from openssl_cmp.enums import ReqType
from openssl_cmp.objects import Certificate

__all__ = ["enroll_many", "Job", "Result"]

Job = Union[Context, "tuple[Context, ReqType]"]
"""A job: a Context (an IR), or a ``(Context, ReqType)`` pair."""
Result = Union[Certificate, Exception]
"""A job's outcome: the new certificate, or the exception the job raised."""

_MAX_WORKERS = 1024  # threads, each with its own stack: a bound against typos like 10**6


def _as_job(job: object, index: int) -> tuple[Context, ReqType]:
    if isinstance(job, Context):
        return job, ReqType.IR
    if isinstance(job, tuple) and len(job) == 2 and isinstance(job[0], Context):
        req_type = job[1]
        if isinstance(req_type, bool) or not isinstance(req_type, int):
            raise TypeError("jobs[%d]: the request type must be a ReqType, not %s"
                            % (index, type(req_type).__name__))
        try:
            return job[0], ReqType(req_type)
        except ValueError:
            raise ValueError("jobs[%d]: %r is no request type (IR, CR, P10CR or KUR)"
                             % (index, req_type)) from None
    raise TypeError("jobs[%d] must be a Context or a (Context, ReqType) pair, not %s"
                    % (index, type(job).__name__))


def _enroll(ctx: Context, req_type: ReqType) -> Result:
    try:
        return ctx.exec_certreq(req_type)
    except Exception as exc:  # the job's result; KeyboardInterrupt and the like go through
        return exc


def enroll_many(jobs: Iterable[Job], workers: int = 4,
                progress: Callable[[int, Result], object] | None = None) -> list[Result]:
    """Run the enrollments of ``jobs`` on ``workers`` threads.

    Returns a list in job order whose items are the new :class:`~openssl_cmp.Certificate`
    or the exception that job raised.  ``progress(index, result)`` is called once per
    finished job, in the calling thread, in the order the jobs finish; an exception it
    raises cancels the jobs not started yet and is raised here.  All jobs are checked
    (TypeError/ValueError) before any of them starts.
    """
    if isinstance(workers, bool) or not isinstance(workers, int):
        raise TypeError("workers must be int, not %s" % type(workers).__name__)
    if not 1 <= workers <= _MAX_WORKERS:
        raise ValueError("workers must be between 1 and %d, not %d" % (_MAX_WORKERS, workers))
    if progress is not None and not callable(progress):
        raise TypeError("progress must be callable or None")
    if isinstance(jobs, (str, bytes)):
        raise TypeError("jobs must be an iterable of Contexts")
    checked = [_as_job(job, i) for i, job in enumerate(jobs)]
    for i, (ctx, _) in enumerate(checked):
        if ctx.closed:
            raise ValueError("jobs[%d]: the Context is closed" % i)
    results: list[Result | None] = [None] * len(checked)
    if not checked:
        return []
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(workers, len(checked)),
                                               thread_name_prefix="enroll_many") as pool:
        futures = {pool.submit(_enroll, ctx, req_type): i
                   for i, (ctx, req_type) in enumerate(checked)}
        try:
            for future in concurrent.futures.as_completed(futures):
                index = futures[future]
                result = future.result()
                results[index] = result
                if progress is not None:
                    progress(index, result)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    # every slot was filled: as_completed yields each future once, or raised above
    return cast("list[Result]", results)
