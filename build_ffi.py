"""Build openssl_cmp._openssl: a cffi out-of-line (API mode) module over libcrypto.

    python build_ffi.py            # compile in place (what ``pip install .`` does for you)

The module is compiled against the OpenSSL headers found by the C compiler.  To build
against another OpenSSL, set ``OPENSSL_DIR`` to its prefix (``$OPENSSL_DIR/include`` and
``$OPENSSL_DIR/lib`` or ``lib64`` are used, and the library directory is added to the
run-time search path), or pass the usual ``CFLAGS``/``LDFLAGS``.

Declarations live in ``openssl_cmp/_cffi_src/`` (one file per area).  Declarations added by
a later OpenSSL sit in ``_cffi_src/gated.py`` and enter the cdef only when the headers are at
least that version, so ``binding.lib`` lacks whatever the build OpenSSL lacks.
"""

import importlib.util
import os
import re
import shlex
import subprocess
import sys
import sysconfig
import tempfile

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "openssl_cmp", "_cffi_src")


def _load(name):
    """Import ``_cffi_src/<name>.py`` by path: the package itself is not importable yet."""
    spec = importlib.util.spec_from_file_location("_ocmp_cffi_src_" + name,
                                                  os.path.join(SRC, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _openssl_dirs():
    prefix = os.environ.get("OPENSSL_DIR")
    if not prefix:
        return [], []
    include = [os.path.join(prefix, "include")]
    libs = [d for d in (os.path.join(prefix, "lib64"), os.path.join(prefix, "lib"))
            if os.path.isdir(d)]
    return include, libs


def header_version(include_dirs):
    """OPENSSL_VERSION_NUMBER of the headers the compiler will use, by preprocessing."""
    cc = shlex.split(os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc")
    cflags = shlex.split(os.environ.get("CFLAGS", ""))
    probe = ("#include <openssl/opensslv.h>\n"
             "OCMP_VERSION OPENSSL_VERSION_MAJOR OPENSSL_VERSION_MINOR OPENSSL_VERSION_PATCH\n")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "probe.c")
        with open(path, "w") as f:
            f.write(probe)
        cmd = cc + cflags + ["-I" + d for d in include_dirs] + ["-E", "-P", path]
        try:
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        except (OSError, subprocess.CalledProcessError) as exc:
            err = getattr(exc, "stderr", "") or str(exc)
            sys.exit("openssl_cmp: cannot preprocess <openssl/opensslv.h> (%s).\n"
                     "Install the OpenSSL headers (Debian: apt-get install libssl-dev) or set "
                     "OPENSSL_DIR.\n%s" % (" ".join(cmd), err))
    m = re.search(r"OCMP_VERSION\s+(\d+)\s+(\d+)\s+(\d+)", out)
    if not m:
        sys.exit("openssl_cmp: OpenSSL 3.0 or later is required (no OPENSSL_VERSION_MAJOR "
                 "in <openssl/opensslv.h>)")
    major, minor, patch = (int(x) for x in m.groups())
    if major < 3:
        sys.exit("openssl_cmp: OpenSSL 3.0 or later is required, found %d.%d.%d"
                 % (major, minor, patch))
    return (major << 28) | (minor << 20) | (patch << 4)


def build(include_dirs=None, library_dirs=None):
    env_inc, env_lib = _openssl_dirs()
    include_dirs = list(include_dirs or []) + env_inc
    library_dirs = list(library_dirs or []) + env_lib
    version = header_version(include_dirs)

    areas = [_load(name) for name in _load("__init__").AREAS]
    gated = _load("gated")
    active = [(label, cdef) for number, label, cdef in gated.GATES if number <= version]

    cdef = "".join(a.TYPES for a in areas)
    cdef += "".join(text for _label, text in active)
    cdef += "".join(a.FUNCTIONS for a in areas)

    source = "".join(a.INCLUDES for a in areas)
    # Fail the build, not the import, if the preprocessor and the compiler disagree.
    source += ("\n#if OPENSSL_VERSION_NUMBER < 0x%xL\n"
               "#error openssl_cmp: headers older than the version probed at build time\n"
               "#endif\n" % version)
    source += "".join(gated.GATE_CUSTOMIZATIONS.get(label, "") for label, _text in active)
    source += "".join(a.CUSTOMIZATIONS for a in areas)
    source += "\nstatic const long ocmp_built_with_version = 0x%xL;\n" % version

    ffi = FFI()
    ffi.cdef(cdef + "static const long ocmp_built_with_version;\n")
    ffi.set_source(
        "openssl_cmp._openssl",
        source,
        libraries=["ssl", "crypto"],
        include_dirs=include_dirs,
        library_dirs=library_dirs,
        runtime_library_dirs=library_dirs,
        # An undeclared function would link to nothing and fail only at import time.
        extra_compile_args=["-Werror=implicit-function-declaration"],
    )
    return ffi


ffibuilder = build()

if __name__ == "__main__":
    ffibuilder.compile(tmpdir=HERE, verbose=True)
