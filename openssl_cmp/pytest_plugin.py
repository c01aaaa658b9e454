"""pytest fixtures for testing CMP clients and servers (entry point ``pytest11``).

* ``cmp_mock_ca``: a fresh :class:`~openssl_cmp.testing.MockCA` (PBM, EC P-256 CA),
  configured per test with the marker ``@pytest.mark.cmp_mock_ca(poll_count=2, …)`` (any
  ``MockCA`` keyword).
* ``cmp_mock_ca_factory``: ``cmp_mock_ca_factory(**options) -> MockCA``, for tests that
  need several, or options computed in the test.
* ``cmp_client``: a :class:`~openssl_cmp.Context` attached in-process to ``cmp_mock_ca``,
  with the matching PBM credentials, subject ``/CN=cmp-client`` and a new EC key, ready for
  ``exec_ir()``.  Closed after the test.
* ``intercept``: an :class:`~openssl_cmp.testing.Intercept` in front of ``cmp_mock_ca``,
  installed as ``cmp_client``'s transfer callback; set its ``on_request`` /
  ``on_response`` in the test.

When a test fails, the transcript of what went over the wire (``CMPError.transcript``, else
``cmp_client.transcript``) is added to the report as the section "CMP transcript".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Generator, Iterator

import pytest

from openssl_cmp.keys import PrivateKey
from openssl_cmp.testing import Intercept, MockCA, format_transcript

if TYPE_CHECKING:
    from openssl_cmp.context import Context

__all__ = ["cmp_mock_ca", "cmp_mock_ca_factory", "cmp_client", "intercept"]


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``cmp_mock_ca`` marker."""
    config.addinivalue_line(
        "markers", "cmp_mock_ca(**options): MockCA keywords for the cmp_mock_ca fixture")


@pytest.fixture
def cmp_mock_ca_factory() -> Callable[..., MockCA]:
    """``cmp_mock_ca_factory(**options)``: a new MockCA with these ``MockCA`` keywords."""
    def make(**options: Any) -> MockCA:
        return MockCA(**options)
    return make


@pytest.fixture
def cmp_mock_ca(request: pytest.FixtureRequest,
                cmp_mock_ca_factory: Callable[..., MockCA]) -> MockCA:
    """A fresh MockCA (PBM, EC P-256 CA), with the options of the test's
    ``@pytest.mark.cmp_mock_ca(...)`` marker if it has one."""
    marker = request.node.get_closest_marker("cmp_mock_ca")
    if marker is not None and marker.args:
        raise TypeError("@pytest.mark.cmp_mock_ca takes keyword arguments only")
    return cmp_mock_ca_factory(**(marker.kwargs if marker is not None else {}))


@pytest.fixture
def cmp_client(cmp_mock_ca: MockCA) -> Iterator[Context]:
    """A Context attached in-process to ``cmp_mock_ca``, ready for ``exec_ir()``."""
    ctx = cmp_mock_ca.client(subject_name="/CN=cmp-client", new_pkey=PrivateKey.generate())
    yield ctx
    ctx.close()


@pytest.fixture
def intercept(cmp_mock_ca: MockCA, cmp_client: Context) -> Intercept:
    """An Intercept in front of ``cmp_mock_ca``, installed on ``cmp_client`` (so its
    exchanges are in ``cmp_client.transcript``)."""
    icpt = Intercept(cmp_mock_ca)
    cmp_client.transfer_callback = icpt
    return icpt


def _transcript_of(item: pytest.Item, call: pytest.CallInfo[None]) -> list[Any] | None:
    exc = call.excinfo.value if call.excinfo is not None else None
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:  # the CMPError, or what it caused
        seen.add(id(exc))
        transcript = getattr(exc, "transcript", None)
        if transcript:
            return list(transcript)
        exc = exc.__cause__ or exc.__context__
    client = getattr(item, "funcargs", {}).get("cmp_client")
    transcript = getattr(client, "transcript", None)
    return list(transcript) if transcript else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, Any, None]:
    """Add the transcript of a failed test's CMP exchanges to its report."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        transcript = _transcript_of(item, call)
        if transcript:
            report.sections.append(("CMP transcript", format_transcript(transcript)))
