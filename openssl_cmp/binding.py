"""The raw layer: ``ffi`` and ``lib`` exactly as cffi built them over libcrypto.

``lib.OSSL_CMP_CTX_new(ffi.NULL, ffi.NULL)`` works as in C.  A function, constant or type that
the OpenSSL this module was built against lacks is *absent* from ``lib`` (``has(name)`` is
False and ``since(name)`` tells which release added it); nothing here is a NULL pointer.

Typing: ``lib`` is untyped C (``Any``); ``ffi`` is typed for the operations the package
uses (``openssl_cmp/_openssl.pyi``), and every cdata is ``Any``.

Also: ``OPENSSL_VERSION`` (str) and ``OPENSSL_VERSION_NUMBER`` (int) of the libcrypto loaded at
run time, and ``BUILT_WITH_VERSION_NUMBER`` (int) of the headers used at build time.
"""

from __future__ import annotations

import os

from openssl_cmp._cffi_src import gated as _gated

__all__ = [
    "ffi",
    "lib",
    "has",
    "since",
    "version_text",
    "OPENSSL_VERSION",
    "OPENSSL_VERSION_NUMBER",
    "BUILT_WITH_VERSION_NUMBER",
]


def version_text(number: int) -> str:
    """``0x30200000`` -> ``"3.2.0"``."""
    return "%d.%d.%d" % (number >> 28, (number >> 20) & 0xFF, (number >> 4) & 0xFF)


def _runtime_libcrypto_version() -> str:
    """Version of the libcrypto the dynamic loader finds, for error messages only."""
    try:
        import ctypes

        libcrypto = ctypes.CDLL("libcrypto.so.3")
        libcrypto.OpenSSL_version_num.restype = ctypes.c_ulong
        return version_text(libcrypto.OpenSSL_version_num())
    except Exception:  # pragma: no cover - best effort diagnostics
        return "unknown"


try:
    from openssl_cmp._openssl import ffi, lib
except ImportError as _exc:
    if "OPENSSL_" in str(_exc) and "not found" in str(_exc) or "undefined symbol" in str(_exc):
        raise ImportError(
            "openssl_cmp was compiled against newer OpenSSL headers than the libcrypto loaded "
            "now (OpenSSL %s): %s. Rebuild it on this machine (pip install --force-reinstall "
            "--no-cache-dir openssl_cmp) or load the OpenSSL it was built for."
            % (_runtime_libcrypto_version(), _exc)
        ) from _exc
    raise

# Leak tests hook the allocator; that only works before libcrypto's first allocation, so it
# happens here, at the first import of the binding, when the environment asks for it.
MEMHOOK_ACTIVE: bool = (bool(os.environ.get("OPENSSL_CMP_MEMHOOK"))
                         and bool(lib.ocmp_memhook_install()))

OPENSSL_VERSION: str = ffi.string(lib.OpenSSL_version(lib.OPENSSL_VERSION)).decode("ascii")
OPENSSL_VERSION_NUMBER: int = int(lib.OpenSSL_version_num())
BUILT_WITH_VERSION_NUMBER: int = int(lib.ocmp_built_with_version)

# Compare major.minor.patch only: the low status nibble differs between builds.
if (OPENSSL_VERSION_NUMBER >> 4) < (BUILT_WITH_VERSION_NUMBER >> 4):
    raise ImportError(
        "openssl_cmp was compiled against OpenSSL %s headers but runs with %s (%s); rebuild "
        "it against the OpenSSL you load"
        % (version_text(BUILT_WITH_VERSION_NUMBER), version_text(OPENSSL_VERSION_NUMBER),
           OPENSSL_VERSION)
    )

_SINCE: dict[str, str] = _gated.since_table()


def has(name: str) -> bool:
    """True when the build has ``name``: a function, constant or extern "Python" slot of
    ``lib``, or a C type known to ``ffi``."""
    if hasattr(lib, name):
        return True
    try:
        ffi.typeof(name)
    except ffi.error:
        return False
    return True


def since(name: str) -> str | None:
    """The OpenSSL release that added ``name`` (``"3.2.0"``), or None if 3.0.0 has it."""
    return _SINCE.get(name)


# OpenSSL 3.5 finds the KGA purpose of a centrally generated key only on the first
# decryption in a process (see ocmp_repair_cmkga_purpose in _cffi_src/gated.py).
CMKGA_PURPOSE_OK: bool = (not has("ocmp_repair_cmkga_purpose")
                          or bool(lib.ocmp_repair_cmkga_purpose()))

# Whatever libcrypto's initialisation left behind must not be blamed on the first call.
lib.ERR_clear_error()
