"""Private and public keys (``EVP_PKEY``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from openssl_cmp import _bio, _store
from openssl_cmp._ownership import Owned
from openssl_cmp._typing import BytesLike, CData, PathLike, TextOrBytes
from openssl_cmp import binding
from openssl_cmp.binding import ffi, lib
from openssl_cmp.errors import probe, raise_openssl
from openssl_cmp.libctx import LibContext, bind, bound, c_args

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import (PrivateKeyTypes,
                                                                 PublicKeyTypes)

__all__ = ["PrivateKey", "PublicKey"]

_EC_OID = b"\x06\x07\x2a\x86\x48\xce\x3d\x02\x01"  # id-ecPublicKey, DER
_LEGACY_EC_FAST = binding.OPENSSL_VERSION_NUMBER < 0x30200000

_K = TypeVar("_K", bound="_Key")

_KEYGEN_NAMES = {"EC": "EC", "RSA": "RSA", "ED25519": "ED25519", "ED448": "ED448"}


def _password_arg(password: TextOrBytes | None) -> CData:
    """``u`` for PEM readers.  None becomes b"" so OpenSSL never prompts on a terminal."""
    if password is None:
        return ffi.new("char[]", b"")
    password = _bio.to_bytes(password, "password")
    if b"\0" in password:
        raise ValueError("password must not contain NUL bytes")
    return ffi.new("char[]", password)


class _Key(Owned):
    """What private and public keys have in common."""

    __slots__ = ()
    _free = "EVP_PKEY_free"
    _up_ref = "EVP_PKEY_up_ref"

    @property
    def key_type(self) -> str:
        """``"EC"``, ``"RSA"``, ``"ED25519"`` …"""
        ptr = self.ptr  # held while the name (the key's get0 string) is read
        return ffi.string(lib.EVP_PKEY_get0_type_name(ptr)).decode().upper()

    @property
    def key_size(self) -> int:
        """Size in bits (curve size for EC)."""
        bits: int = lib.EVP_PKEY_get_bits(self.ptr)
        return bits

    def public_key(self) -> "PublicKey":
        """The public half, as a new public-only key."""
        return PublicKey.from_der(_bio.i2d(lib.i2d_PUBKEY, self.ptr, "public key"))

    def _repr_detail(self) -> str:
        # type name and size only: never the key material (provider keys may not export)
        return "%s %d bits" % (self.key_type, self.key_size)

    def copy(self: _K) -> _K:
        """A new reference to the same key (nothing is exported); it keeps the key's
        :class:`~openssl_cmp.LibContext` alive like the original."""
        new = super().copy()
        bind(new, bound(self))
        return new

    def __deepcopy__(self: _K, memo: object) -> _K:
        return self.copy()

    @classmethod
    def _in_libctx(cls: type[_K], ptr: CData, libctx_c: CData) -> _K:
        """Own ``ptr`` (a key made in the C library context ``libctx_c``) and keep that
        context alive as long as the key object."""
        key = cls._owned(ptr)
        bind(key, libctx_c)
        return key


class PrivateKey(_Key):
    """A private key.  ``PrivateKey.generate("EC", curve="P-256")``."""

    __slots__ = ()

    @classmethod
    def generate(cls, kind: str = "EC", *, curve: str = "P-256", bits: int = 2048,
                 libctx: LibContext | None = None, propq: str | None = None) -> "PrivateKey":
        """A new key: ``kind`` is ``"EC"`` (on ``curve``), ``"RSA"`` (of ``bits`` bits),
        ``"ED25519"`` or ``"ED448"``; made by the providers of ``libctx`` (a
        :class:`~openssl_cmp.LibContext`, which the key keeps alive) matching ``propq``."""
        if not isinstance(kind, str):
            raise TypeError("kind must be str, not %s" % type(kind).__name__)
        name = _KEYGEN_NAMES.get(kind.upper())
        if name is None:
            raise ValueError("kind must be one of %s, not %r" % (sorted(_KEYGEN_NAMES), kind))
        if name == "RSA":
            if isinstance(bits, bool) or not isinstance(bits, int):
                raise TypeError("bits must be int, not %s" % type(bits).__name__)
            if not 1024 <= bits <= 16384:
                raise ValueError("RSA bits must be 1024..16384, not %d" % bits)
        curve_c = _bio.c_string(curve, "curve") if name == "EC" else None
        libctx_c, propq_c = c_args(libctx, propq)
        pctx = lib.EVP_PKEY_CTX_new_from_name(libctx_c, name.encode(), propq_c)
        if pctx == ffi.NULL:
            raise_openssl("cannot create a %s key generator" % name)
        try:
            if lib.EVP_PKEY_keygen_init(pctx) != 1:
                raise_openssl("cannot initialise %s key generation" % name)
            if name == "EC" and lib.EVP_PKEY_CTX_set_group_name(pctx, curve_c) != 1:
                raise_openssl("unknown EC curve %r" % curve)
            if name == "RSA" and lib.EVP_PKEY_CTX_set_rsa_keygen_bits(pctx, bits) != 1:
                raise_openssl("cannot set RSA key size %d" % bits)
            out = ffi.new("EVP_PKEY **")
            if lib.EVP_PKEY_generate(pctx, out) != 1:
                raise_openssl("%s key generation failed" % name)
            return cls._in_libctx(out[0], libctx_c)
        finally:
            lib.EVP_PKEY_CTX_free(pctx)

    @classmethod
    def load(cls, uri: PathLike, password: TextOrBytes | None = None, *,
             libctx: LibContext | None = None, propq: str | None = None) -> "PrivateKey":
        """The first private key at ``uri``, through OSSL_STORE: a plain path (PEM, DER,
        encrypted PKCS#8 with ``password``), a ``file:`` URI, or any scheme of a provider
        loaded in ``libctx`` (``pkcs11:…``; ``password`` is then the PIN).  The key stays
        as the provider loaded it (a token's key is never exported); it keeps ``libctx``
        alive.  FileNotFoundError for a missing plain path, OpenSSLError when nothing
        loads (wrong password, no key there)."""
        libctx_c, _ = c_args(libctx, propq)

        def convert(info: CData) -> "PrivateKey | None":
            if lib.OSSL_STORE_INFO_get_type(info) != lib.OSSL_STORE_INFO_PKEY:
                return None
            return cls._in_libctx(lib.OSSL_STORE_INFO_get1_PKEY(info), libctx_c)

        return _store.load(uri, lib.OSSL_STORE_INFO_PKEY, convert, password, libctx, propq,
                           limit=1, missing="no private key at %r%s" % (
                               uri, " (wrong password?)" if password is not None
                               else " (encrypted? give the password)"))[0]

    @classmethod
    def from_pem(cls, data: TextOrBytes, password: TextOrBytes | None = None) -> "PrivateKey":
        """A PEM private key, encrypted ones with ``password``."""
        data = _bio.to_bytes(data, "PEM data")
        ptr = _bio.pem_read(lib.PEM_read_bio_PrivateKey, data,
                            "private key (wrong password, or not a private key?)",
                            _password_arg(password))
        return cls._owned(ptr)

    @classmethod
    def from_der(cls, data: BytesLike) -> "PrivateKey":
        """An unencrypted PKCS#8 or traditional DER private key."""
        if isinstance(data, str):
            raise TypeError("DER data must be bytes, not str (PEM text goes to from_pem)")
        data = _bio.to_bytes(data, "DER data")
        ptr, used = _bio.d2i(lib.d2i_AutoPrivateKey, data, "private key")
        key = cls._owned(ptr)
        if used != len(data):
            key.close()
            raise ValueError("%d trailing bytes after the DER private key" % (len(data) - used))
        return key

    @classmethod
    def from_file(cls, path: PathLike,
                  password: TextOrBytes | None = None) -> "PrivateKey":
        """A PEM or DER key file (PEM may be encrypted with ``password``)."""
        data = _bio.read_path(path, "key")
        if b"-----BEGIN" in data:
            return cls.from_pem(data, password)
        return cls.from_der(data)

    @classmethod
    def from_cryptography(cls, key: PrivateKeyTypes) -> "PrivateKey":
        """A copy of a ``cryptography`` private key."""
        from cryptography.hazmat.primitives import serialization

        der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        return cls.from_der(der)

    def to_pem(self, password: TextOrBytes | None = None) -> bytes:
        """PKCS#8 PEM, encrypted with AES-256-CBC when a password is given."""
        if password is None:
            return _bio.pem_write(lib.PEM_write_bio_PKCS8PrivateKey, self.ptr, "private key",
                                  ffi.NULL, ffi.NULL, 0, ffi.NULL, ffi.NULL)
        password = _bio.to_bytes(password, "password")
        if not password:
            raise ValueError("password must not be empty")
        if b"\0" in password:
            raise ValueError("password must not contain NUL bytes")
        return _bio.pem_write(lib.PEM_write_bio_PKCS8PrivateKey, self.ptr, "private key",
                              lib.EVP_aes_256_cbc(), password, len(password), ffi.NULL,
                              ffi.NULL)

    def to_der(self) -> bytes:
        """Unencrypted PKCS#8 DER."""
        bio = _bio.MemBIO()
        if lib.i2d_PKCS8PrivateKey_bio(bio.bio, self.ptr, ffi.NULL, ffi.NULL, 0, ffi.NULL,
                                       ffi.NULL) != 1:
            raise_openssl("cannot DER-encode private key")
        return bio.read_all()

    def to_cryptography(self) -> PrivateKeyTypes:
        """A copy as a ``cryptography`` private key."""
        from cryptography.hazmat.primitives import serialization

        return serialization.load_der_private_key(self.to_der(), None)


class PublicKey(_Key):
    """A public key (SubjectPublicKeyInfo)."""

    __slots__ = ()
    _d2i = "d2i_PUBKEY"
    _i2d = "i2d_PUBKEY"
    _pem_read = "PEM_read_bio_PUBKEY"
    _pem_write = "PEM_write_bio_PUBKEY"
    _what = "public key"

    @classmethod
    def from_der(cls, data: BytesLike) -> "PublicKey":
        """A SubjectPublicKeyInfo.  On OpenSSL < 3.2 an EC key takes the legacy decoder,
        several times faster there (the hot path of a CA issuing certificates)."""
        if _LEGACY_EC_FAST and isinstance(data, bytes) and _EC_OID in data[:24]:
            with probe():  # not for us if it fails: the general decoder reports properly
                ptr = lib.ocmp_pkey_from_ec_spki(data, len(data))
            if ptr != ffi.NULL:
                return cls._owned(ptr)
        return cls._decode_der(data)

    @classmethod
    def load(cls, uri: PathLike, *, libctx: LibContext | None = None,
             propq: str | None = None) -> "PublicKey":
        """The first public key at ``uri`` through OSSL_STORE (see
        :meth:`PrivateKey.load`); a private key or certificate found there gives its
        public half."""
        libctx_c, _ = c_args(libctx, propq)

        def convert(info: CData) -> "PublicKey | None":
            kind = lib.OSSL_STORE_INFO_get_type(info)
            if kind == lib.OSSL_STORE_INFO_PUBKEY:
                return cls._in_libctx(lib.OSSL_STORE_INFO_get1_PUBKEY(info), libctx_c)
            if kind == lib.OSSL_STORE_INFO_PKEY:
                with PrivateKey._in_libctx(lib.OSSL_STORE_INFO_get1_PKEY(info),
                                           libctx_c) as key:
                    return key.public_key()
            if kind == lib.OSSL_STORE_INFO_CERT:
                cert = ffi.gc(lib.OSSL_STORE_INFO_get1_CERT(info), lib.X509_free)
                if cert == ffi.NULL:
                    raise_openssl("cannot read the certificate at %r" % (uri,))
                return cls._in_libctx(lib.X509_get_pubkey(cert), libctx_c)
            return None

        return _store.load(uri, 0, convert, None, libctx, propq, limit=1,
                           missing="no public key at %r" % (uri,))[0]

    @classmethod
    def from_cryptography(cls, key: PublicKeyTypes) -> "PublicKey":
        """A copy of a ``cryptography`` public key."""
        from cryptography.hazmat.primitives import serialization

        return cls.from_der(key.public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo))

    def to_cryptography(self) -> PublicKeyTypes:
        """A copy as a ``cryptography`` public key."""
        from cryptography.hazmat.primitives import serialization

        return serialization.load_der_public_key(self.to_der())

    def __eq__(self, other: object) -> bool:
        # EVP_PKEY_eq compares parameters and public components only: a private key is
        # compared as it is, never encoded (a provider's key may refuse any export)
        if not isinstance(other, _Key):
            return NotImplemented
        # keys of different types "fail" to compare and leave errors: not ours to report
        with probe():
            equal: bool = lib.EVP_PKEY_eq(self.ptr, other.ptr) == 1
        return equal

    def __hash__(self) -> int:
        return hash(self.to_der())
