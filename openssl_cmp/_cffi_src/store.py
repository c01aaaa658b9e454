"""Loading keys and certificates from anywhere: OSSL_STORE (URIs of any provider's scheme),
PKCS#12, library contexts and providers.

The passphrase reaches OSSL_STORE through a UI_METHOD made by
``UI_UTIL_wrap_read_pem_callback(PEM_def_callback, 0)``: ``PEM_def_callback`` copies its
user data (the ``ui_data`` given to ``OSSL_STORE_open_ex``, a NUL-terminated password) and
never prompts while that is non-NULL, so no Python callback is involved.
"""

INCLUDES = """
#include <openssl/store.h>
#include <openssl/ui.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/conf.h>
"""

TYPES = """
typedef ... OSSL_STORE_CTX;
typedef ... OSSL_STORE_INFO;
typedef ... UI_METHOD;
typedef ... OSSL_PARAM;
typedef ... OSSL_PROVIDER;
typedef ... PKCS12;
typedef OSSL_STORE_INFO *(*OSSL_STORE_post_process_info_fn)(OSSL_STORE_INFO *, void *);

static const int OSSL_STORE_INFO_NAME;
static const int OSSL_STORE_INFO_PARAMS;
static const int OSSL_STORE_INFO_PUBKEY;
static const int OSSL_STORE_INFO_PKEY;
static const int OSSL_STORE_INFO_CERT;
static const int OSSL_STORE_INFO_CRL;
static const int PEM_BUFSIZE;
static const int PKCS12_R_MAC_VERIFY_FAILURE;
static const int ERR_LIB_PKCS12;
static const int ERR_R_UNSUPPORTED;
"""

FUNCTIONS = """
/* OSSL_STORE */
OSSL_STORE_CTX *OSSL_STORE_open_ex(const char *, OSSL_LIB_CTX *, const char *,
                                   const UI_METHOD *, void *, const OSSL_PARAM *,
                                   OSSL_STORE_post_process_info_fn, void *);
int OSSL_STORE_expect(OSSL_STORE_CTX *, int);
OSSL_STORE_INFO *OSSL_STORE_load(OSSL_STORE_CTX *);
int OSSL_STORE_eof(OSSL_STORE_CTX *);
int OSSL_STORE_error(OSSL_STORE_CTX *);
int OSSL_STORE_close(OSSL_STORE_CTX *);
int OSSL_STORE_INFO_get_type(const OSSL_STORE_INFO *);
EVP_PKEY *OSSL_STORE_INFO_get1_PKEY(const OSSL_STORE_INFO *);
EVP_PKEY *OSSL_STORE_INFO_get1_PUBKEY(const OSSL_STORE_INFO *);
X509 *OSSL_STORE_INFO_get1_CERT(const OSSL_STORE_INFO *);
X509_CRL *OSSL_STORE_INFO_get1_CRL(const OSSL_STORE_INFO *);
void OSSL_STORE_INFO_free(OSSL_STORE_INFO *);

/* a UI_METHOD over a PEM password callback (used with PEM_def_callback) */
UI_METHOD *UI_UTIL_wrap_read_pem_callback(pem_password_cb *, int);
void UI_destroy_method(UI_METHOD *);
int PEM_def_callback(char *, int, int, void *);

/* PKCS#12 */
PKCS12 *d2i_PKCS12(PKCS12 **, const unsigned char **, long);
void PKCS12_free(PKCS12 *);
int PKCS12_parse(PKCS12 *, const char *, EVP_PKEY **, X509 **, OCMP_STACK_OF_X509 **);
int PKCS12_verify_mac(PKCS12 *, const char *, int);
int PKCS12_mac_present(const PKCS12 *);

/* library contexts and providers */
OSSL_LIB_CTX *OSSL_LIB_CTX_new(void);
void OSSL_LIB_CTX_free(OSSL_LIB_CTX *);
int OSSL_LIB_CTX_load_config(OSSL_LIB_CTX *, const char *);
OSSL_PROVIDER *OSSL_PROVIDER_load(OSSL_LIB_CTX *, const char *);
int OSSL_PROVIDER_unload(OSSL_PROVIDER *);
int OSSL_PROVIDER_available(OSSL_LIB_CTX *, const char *);
int OSSL_PROVIDER_set_default_search_path(OSSL_LIB_CTX *, const char *);
const char *OSSL_PROVIDER_get0_name(const OSSL_PROVIDER *);
EVP_MD *EVP_MD_fetch(OSSL_LIB_CTX *, const char *, const char *);
void EVP_MD_free(EVP_MD *);
"""

CUSTOMIZATIONS = ""
