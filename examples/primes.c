/*
 * primes.c - an example reactor-style library for `wasmctl run --invoke`:
 * exported functions called directly, no _start needed.
 *
 *   wasmctl run --invoke count_primes primes.wasm 100000   -> 9592
 */
#include <stdint.h>

__attribute__((export_name("count_primes")))
int32_t count_primes(int32_t limit) {
    int32_t count = 0;
    for (int32_t n = 2; n < limit; n++) {
        int prime = 1;
        for (int32_t d = 2; d * d <= n; d++)
            if (n % d == 0) {
                prime = 0;
                break;
            }
        count += prime;
    }
    return count;
}

__attribute__((export_name("fib")))
int64_t fib(int32_t n) {
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}
