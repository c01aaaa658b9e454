/*
 * enroll_baseline.c - the C baseline of benchmarks/bench_enroll.py (built by it with
 * gcc -O2 ... -lcrypto in a temporary directory).
 *
 *   enroll_baseline CERT.pem KEY.pem N WARMUP REF SECRET [steps]
 *
 * Starts the fixed server (fixed_server.c), runs WARMUP untimed enrollments, then N timed
 * ones (enroll_loop.c), and prints one line of key=value pairs:
 *
 *   us_per_enroll=1234.567 ok=N n=N cert_requests=.. cert_confs=.. [step_<name>=us ...]
 *
 * cert_requests/cert_confs count the server callbacks of the timed loop only.  Exit status
 * 0 when every timed enrollment succeeded, 1 otherwise, 2 on a usage or setup error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>

#include "fixed_server.c"
#include "enroll_loop.c"
#include "read_file.c"

static const char *const step_names[BENCH_NSTEPS] = {
    "new", "log_verbosity", "reference_value", "secret_value", "subject_name",
    "set_new_pkey", "transfer", "exec_ir", "status", "free"
};

int main(int argc, char **argv)
{
    char *cert_pem, *key_pem;
    const unsigned char *ref, *secret;
    int n, warmup, ok, i, want_steps;
    long req0, conf0, req1, conf1;
    double elapsed = 0, ignored = 0, steps[BENCH_NSTEPS] = {0};
    OSSL_CMP_SRV_CTX *srv;

    if (argc < 7 || argc > 8) {
        fprintf(stderr, "usage: %s CERT.pem KEY.pem N WARMUP REF SECRET [steps]\n", argv[0]);
        return 2;
    }
    cert_pem = read_file(argv[1]);
    key_pem = read_file(argv[2]);
    n = atoi(argv[3]);
    warmup = atoi(argv[4]);
    ref = (const unsigned char *)argv[5];
    secret = (const unsigned char *)argv[6];
    want_steps = argc == 8 && strcmp(argv[7], "steps") == 0;
    if (cert_pem == NULL || key_pem == NULL || n <= 0 || warmup < 0) {
        fprintf(stderr, "cannot read the inputs\n");
        return 2;
    }
    srv = bench_server_new(cert_pem, ref, (int)strlen(argv[5]), secret, (int)strlen(argv[6]));
    if (srv == NULL) {
        ERR_print_errors_fp(stderr);
        return 2;
    }
    if (warmup > 0
        && bench_c_run(srv, key_pem, cert_pem, ref, (int)strlen(argv[5]), secret,
                       (int)strlen(argv[6]), warmup, &ignored, NULL) != warmup) {
        fprintf(stderr, "warm-up enrollments failed\n");
        ERR_print_errors_fp(stderr);
        return 1;
    }
    bench_server_counts(srv, &req0, &conf0);
    ok = bench_c_run(srv, key_pem, cert_pem, ref, (int)strlen(argv[5]), secret,
                     (int)strlen(argv[6]), n, &elapsed, want_steps ? steps : NULL);
    bench_server_counts(srv, &req1, &conf1);
    printf("us_per_enroll=%.3f ok=%d n=%d cert_requests=%ld cert_confs=%ld",
           elapsed / 1e3 / n, ok, n, req1 - req0, conf1 - conf0);
    if (want_steps)
        for (i = 0; i < BENCH_NSTEPS; i++)
            printf(" step_%s=%.3f", step_names[i], steps[i] / 1e3 / n);
    printf("\n");
    if (ok != n)
        ERR_print_errors_fp(stderr);
    bench_server_free(srv);
    free(cert_pem);
    free(key_pem);
    return ok == n ? 0 : 1;
}
