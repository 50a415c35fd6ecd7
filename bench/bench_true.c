/* bench_true.c - the tiny program of the subprocess benchmarks: it exits
 * with 0 at once. Not linked with mproc. */
int main(void)
{
    return 0;
}
