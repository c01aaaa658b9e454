/*
 * enroll_loop.c - the C enrollment loop of benchmarks/bench_enroll.py.
 *
 * One IR per iteration through a fresh OSSL_CMP_CTX: new, configure (log verbosity ERR, PBM
 * reference + secret, subject, new key for POPO, in-process transfer to the server), exec IR,
 * read the status, free.  This is exactly what the Python side does through
 * openssl_cmp.Context.  #included by enroll_baseline.c (the standalone program) and by the
 * cffi module (to run the same loop inside the Python process as a cross-check).
 */
#include <time.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/cmp.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

/* Steps timed by bench_enroll_loop when asked for (steps != NULL): accumulated ns. */
enum {
    BENCH_STEP_NEW, BENCH_STEP_VERBOSITY, BENCH_STEP_REF, BENCH_STEP_SECRET,
    BENCH_STEP_SUBJECT, BENCH_STEP_NEWKEY, BENCH_STEP_TRANSFER, BENCH_STEP_EXEC,
    BENCH_STEP_STATUS, BENCH_STEP_FREE, BENCH_NSTEPS
};

static double bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

#define BENCH_MARK(step) do { if (steps != NULL) { double t_ = bench_now_ns(); \
    steps[step] += t_ - t_prev; t_prev = t_; } } while (0)

/*
 * Run n enrollments; return how many succeeded (certificate returned, status accepted, and
 * equal to `expected`).  *elapsed_ns gets the wall time of the whole loop.  With steps !=
 * NULL (an array of BENCH_NSTEPS doubles), also accumulate the time of each step.
 */
int bench_enroll_loop(OSSL_CMP_SRV_CTX *srv, EVP_PKEY *key, const X509 *expected,
                      const X509_NAME *subject, const unsigned char *ref, int ref_len,
                      const unsigned char *secret, int secret_len, int n,
                      double *elapsed_ns, double *steps)
{
    int i, ok = 0;
    double t0 = bench_now_ns(), t_prev = t0;

    for (i = 0; i < n; i++) {
        OSSL_CMP_CTX *ctx;
        X509 *cert;
        int status;

        if (steps != NULL)
            t_prev = bench_now_ns();
        if ((ctx = OSSL_CMP_CTX_new(NULL, NULL)) == NULL)
            continue;
        BENCH_MARK(BENCH_STEP_NEW);
        if (!OSSL_CMP_CTX_set_option(ctx, OSSL_CMP_OPT_LOG_VERBOSITY, OSSL_CMP_LOG_ERR))
            goto next;
        BENCH_MARK(BENCH_STEP_VERBOSITY);
        if (!OSSL_CMP_CTX_set1_referenceValue(ctx, ref, ref_len))
            goto next;
        BENCH_MARK(BENCH_STEP_REF);
        if (!OSSL_CMP_CTX_set1_secretValue(ctx, secret, secret_len))
            goto next;
        BENCH_MARK(BENCH_STEP_SECRET);
        if (!OSSL_CMP_CTX_set1_subjectName(ctx, subject))
            goto next;
        BENCH_MARK(BENCH_STEP_SUBJECT);
        if (!EVP_PKEY_up_ref(key))
            goto next;
        if (!OSSL_CMP_CTX_set0_newPkey(ctx, 1, key)) {
            EVP_PKEY_free(key);
            goto next;
        }
        BENCH_MARK(BENCH_STEP_NEWKEY);
        if (!OSSL_CMP_CTX_set_transfer_cb_arg(ctx, srv)
            || !OSSL_CMP_CTX_set_transfer_cb(ctx, OSSL_CMP_CTX_server_perform))
            goto next;
        BENCH_MARK(BENCH_STEP_TRANSFER);
        cert = OSSL_CMP_exec_certreq(ctx, OSSL_CMP_IR, NULL);
        BENCH_MARK(BENCH_STEP_EXEC);
        status = OSSL_CMP_CTX_get_status(ctx);
        if (cert != NULL && status == OSSL_CMP_PKISTATUS_accepted
            && X509_cmp(cert, expected) == 0)
            ok++;
        BENCH_MARK(BENCH_STEP_STATUS);
    next:
        OSSL_CMP_CTX_free(ctx);
        BENCH_MARK(BENCH_STEP_FREE);
    }
    *elapsed_ns = bench_now_ns() - t0;
    return ok;
}

/*
 * Load the key and expected certificate from PEM text, build the subject /CN=bench, run
 * bench_enroll_loop, free.  Returns the number of successful enrollments, or -1 when the
 * inputs cannot be loaded.  Loading is outside the timed loop.
 */
int bench_c_run(OSSL_CMP_SRV_CTX *srv, const char *key_pem, const char *cert_pem,
                const unsigned char *ref, int ref_len,
                const unsigned char *secret, int secret_len, int n,
                double *elapsed_ns, double *steps)
{
    BIO *kbio = BIO_new_mem_buf(key_pem, -1), *cbio = BIO_new_mem_buf(cert_pem, -1);
    EVP_PKEY *key = kbio == NULL ? NULL : PEM_read_bio_PrivateKey(kbio, NULL, NULL, "");
    X509 *cert = cbio == NULL ? NULL : PEM_read_bio_X509(cbio, NULL, NULL, NULL);
    X509_NAME *subject = X509_NAME_new();
    int ok = -1;

    if (key != NULL && cert != NULL && subject != NULL
        && X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                      (const unsigned char *)"bench", -1, -1, 0))
        ok = bench_enroll_loop(srv, key, cert, subject, ref, ref_len, secret, secret_len, n,
                               elapsed_ns, steps);
    X509_NAME_free(subject);
    X509_free(cert);
    EVP_PKEY_free(key);
    BIO_free(cbio);
    BIO_free(kbio);
    return ok;
}
