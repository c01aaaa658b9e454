"""Memory and file BIOs: how bytes cross between Python and libcrypto."""

INCLUDES = ""

TYPES = """
static const int BIO_CTRL_PENDING;
"""

FUNCTIONS = """
const BIO_METHOD *BIO_s_mem(void);
BIO *BIO_new(const BIO_METHOD *);
BIO *BIO_new_mem_buf(const void *, int);
BIO *BIO_new_file(const char *, const char *);
int BIO_free(BIO *);
void BIO_free_all(BIO *);
int BIO_up_ref(BIO *);
int BIO_read(BIO *, void *, int);
int BIO_write(BIO *, const void *, int);
size_t BIO_ctrl_pending(BIO *);
long BIO_ctrl(BIO *, int, long, void *);
"""

CUSTOMIZATIONS = ""
