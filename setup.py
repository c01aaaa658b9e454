# cffi's setuptools hook is the ``cffi_modules`` keyword of setup(); pyproject.toml cannot
# carry it, so this shim does and nothing else (metadata lives in pyproject.toml).
from setuptools import setup

setup(cffi_modules=["build_ffi.py:ffibuilder"])
