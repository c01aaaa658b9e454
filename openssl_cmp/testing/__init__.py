"""Test aids: ``MockCA``, a CMP test CA in Python, in-process or over HTTP; ``Intercept``,
a transfer callback that lets a test change, drop, delay, duplicate or replay the messages
OpenSSL sends and receives; transcripts of what went over the wire.

``MockCA`` (defined in :mod:`openssl_cmp.mockca`, docs/mockca.md) issues real certificates
for what clients request (IR, CR, P10CR, KUR) under the profile it enforces, revokes only for
those authorized, answers every RFC 9483 support message, and injects the faults OpenSSL's
mock server knows.  A pytest plugin offers the fixtures ``cmp_mock_ca``,
``cmp_mock_ca_factory``, ``cmp_client`` and ``intercept`` (see
:mod:`openssl_cmp.pytest_plugin`).  Hypothesis strategies live in
:mod:`openssl_cmp.testing.strategies` (imported on demand: hypothesis is optional).
See docs/testing.md.
"""

from __future__ import annotations

from openssl_cmp._transcript import Exchange, format_transcript
from openssl_cmp.mockca import CA_CERTS_OID, MockCA, Profile
from openssl_cmp.testing._intercept import Dropped, Intercept

__all__ = ["MockCA", "Profile", "CA_CERTS_OID", "Intercept", "Dropped", "Exchange",
           "format_transcript"]
