/*
 * enroll_threads.c - how far OpenSSL's own CMP enrollments scale over threads on this
 * machine: the reference of benchmarks/bench_scale.py (c).
 *
 *   enroll_threads CERT.pem KEY.pem N THREADS REF SECRET
 *
 * Each of THREADS threads runs N in-process enrollments (enroll_loop.c: a fresh
 * OSSL_CMP_CTX per IR, PBM, certConf) against a fixed server of its own (fixed_server.c),
 * so nothing is shared between the threads but libcrypto itself.  Prints one line:
 *
 *   per_s=1234.5 ok=N*THREADS threads=THREADS
 *
 * Exit status 0 when every enrollment succeeded, 1 otherwise, 2 on a usage or setup error.
 * Python's GIL plays no part here: the ratio of this program's rates at 2 and 1 threads is
 * what the machine and OpenSSL allow enroll_many at best.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>

#include "fixed_server.c"
#include "enroll_loop.c"
#include "read_file.c"

#define MAX_THREADS 64

static char *cert_pem, *key_pem;
static const char *ref, *secret;
static int n;

static void *worker(void *arg)
{
    int *ok = arg;
    double ignored = 0;
    OSSL_CMP_SRV_CTX *srv = bench_server_new(cert_pem, (const unsigned char *)ref,
                                             (int)strlen(ref), (const unsigned char *)secret,
                                             (int)strlen(secret));

    *ok = srv == NULL ? 0
        : bench_c_run(srv, key_pem, cert_pem, (const unsigned char *)ref, (int)strlen(ref),
                      (const unsigned char *)secret, (int)strlen(secret), n, &ignored, NULL);
    if (srv != NULL)
        bench_server_free(srv);
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t tid[MAX_THREADS];
    int ok[MAX_THREADS], threads, i, total = 0;
    double t0, elapsed;

    if (argc != 7) {
        fprintf(stderr, "usage: %s CERT.pem KEY.pem N THREADS REF SECRET\n", argv[0]);
        return 2;
    }
    cert_pem = read_file(argv[1]);
    key_pem = read_file(argv[2]);
    n = atoi(argv[3]);
    threads = atoi(argv[4]);
    ref = argv[5];
    secret = argv[6];
    if (cert_pem == NULL || key_pem == NULL || n <= 0 || threads < 1 || threads > MAX_THREADS) {
        fprintf(stderr, "cannot read the inputs\n");
        return 2;
    }
    t0 = bench_now_ns();
    for (i = 0; i < threads; i++)
        if (pthread_create(&tid[i], NULL, worker, &ok[i]) != 0) {
            fprintf(stderr, "cannot start a thread\n");
            return 2;
        }
    for (i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        total += ok[i] > 0 ? ok[i] : 0;
    }
    elapsed = bench_now_ns() - t0;
    printf("per_s=%.1f ok=%d threads=%d\n", total / (elapsed / 1e9), total, threads);
    if (total != n * threads)
        ERR_print_errors_fp(stderr);
    free(cert_pem);
    free(key_pem);
    return total == n * threads ? 0 : 1;
}
