"""pytest fixtures for testing CMP clients and servers (entry point ``pytest11``).

* ``cmp_mock_ca``: a fresh :class:`~openssl_cmp.testing.MockCA` (PBM, EC P-256 CA).
* ``cmp_client``: a :class:`~openssl_cmp.Context` attached in-process to ``cmp_mock_ca``,
  with the matching PBM credentials, subject ``/CN=cmp-client`` and a new EC key, ready for
  ``exec_ir()``.  Closed after the test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import pytest

from openssl_cmp.keys import PrivateKey
from openssl_cmp.testing import MockCA

if TYPE_CHECKING:
    from openssl_cmp.context import Context


@pytest.fixture
def cmp_mock_ca() -> MockCA:
    """A fresh MockCA (PBM, EC P-256 CA)."""
    return MockCA()


@pytest.fixture
def cmp_client(cmp_mock_ca: MockCA) -> Iterator[Context]:
    """A Context attached in-process to ``cmp_mock_ca``, ready for ``exec_ir()``."""
    ctx = cmp_mock_ca.client(subject_name="/CN=cmp-client", new_pkey=PrivateKey.generate())
    yield ctx
    ctx.close()
