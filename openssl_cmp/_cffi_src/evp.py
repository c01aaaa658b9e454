"""Keys: generation, encoding, comparison; digests and ciphers used for signing and PEM."""

INCLUDES = ""

TYPES = """
typedef int pem_password_cb(char *, int, int, void *);
static const int EVP_PKEY_RSA;
static const int EVP_PKEY_EC;
static const int EVP_PKEY_ED25519;
static const int EVP_PKEY_ED448;
"""

FUNCTIONS = """
void EVP_PKEY_free(EVP_PKEY *);
int EVP_PKEY_up_ref(EVP_PKEY *);
EVP_PKEY *EVP_PKEY_dup(EVP_PKEY *);
int EVP_PKEY_eq(const EVP_PKEY *, const EVP_PKEY *);
int EVP_PKEY_get_id(const EVP_PKEY *);
int EVP_PKEY_get_base_id(const EVP_PKEY *);
int EVP_PKEY_get_bits(const EVP_PKEY *);
const char *EVP_PKEY_get0_type_name(const EVP_PKEY *);

EVP_PKEY_CTX *EVP_PKEY_CTX_new_from_name(OSSL_LIB_CTX *, const char *, const char *);
void EVP_PKEY_CTX_free(EVP_PKEY_CTX *);
int EVP_PKEY_keygen_init(EVP_PKEY_CTX *);
int EVP_PKEY_generate(EVP_PKEY_CTX *, EVP_PKEY **);
int EVP_PKEY_CTX_set_group_name(EVP_PKEY_CTX *, const char *);
int EVP_PKEY_CTX_set_rsa_keygen_bits(EVP_PKEY_CTX *, int);

EVP_PKEY *d2i_AutoPrivateKey(EVP_PKEY **, const unsigned char **, long);
EVP_PKEY *d2i_PrivateKey_bio(BIO *, EVP_PKEY **);
int i2d_PKCS8PrivateKey_bio(BIO *, const EVP_PKEY *, const EVP_CIPHER *, const char *, int,
                            pem_password_cb *, void *);
EVP_PKEY *d2i_PUBKEY(EVP_PKEY **, const unsigned char **, long);
int i2d_PUBKEY(const EVP_PKEY *, unsigned char **);

EVP_PKEY *ocmp_pkey_from_ec_spki(const unsigned char *, long);

const EVP_MD *EVP_sha256(void);
const EVP_MD *EVP_get_digestbyname(const char *);
const EVP_CIPHER *EVP_aes_256_cbc(void);
"""

CUSTOMIZATIONS = """
#include <openssl/ec.h>
/* A public key from an EC SubjectPublicKeyInfo through the legacy EC_KEY decoder.  On
   OpenSSL 3.0/3.1, d2i_PUBKEY goes through the provider decoder framework (~90 us for a
   P-256 key), and setting such a key into a certificate through the encoders costs
   another ~130 us; the legacy path takes ~15 us and its keys encode fast.  Returns NULL
   (the caller falls back to d2i_PUBKEY) when it cannot be used. */
EVP_PKEY *ocmp_pkey_from_ec_spki(const unsigned char *der, long len)
{
#if !defined(OPENSSL_NO_DEPRECATED_3_0) && !defined(OPENSSL_NO_EC)
    const unsigned char *p = der;
    EC_KEY *ec = d2i_EC_PUBKEY(NULL, &p, len);
    EVP_PKEY *pkey;

    if (ec == NULL)
        return NULL;
    if (p != der + len || (pkey = EVP_PKEY_new()) == NULL) {
        EC_KEY_free(ec);
        return NULL;
    }
    if (!EVP_PKEY_assign_EC_KEY(pkey, ec)) {
        EC_KEY_free(ec);
        EVP_PKEY_free(pkey);
        return NULL;
    }
    return pkey;
#else
    (void)der; (void)len;
    return NULL;
#endif
}
"""
