"""Type aliases shared by the modules (typing only; nothing here is called at run time).

``CData`` marks a cffi cdata: the value of an ``ffi``/``lib`` call, a C pointer.  The C
layer is untyped, so it is ``Any``; it appears in private signatures and in the public
``.ptr`` properties only.
"""

from __future__ import annotations

import os
from typing import Any, Union

CData = Any
"""A cffi cdata (a C pointer or value from :mod:`openssl_cmp.binding`); untyped."""

BytesLike = Union[bytes, bytearray, memoryview]
"""Binary data: ``bytes``, ``bytearray`` or ``memoryview``."""

TextOrBytes = Union[str, bytes, bytearray, memoryview]
"""PEM text or binary data (``str`` is encoded as ASCII)."""

PathLike = Union[str, bytes, os.PathLike[str], os.PathLike[bytes]]
"""A file system path."""
