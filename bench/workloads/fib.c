/*
 * fib - recursive Fibonacci: function calls, integer add, compare, branch.
 *
 *   fib [N]      computes fib(N) the naive recursive way (default N below)
 *
 * Prints one checksum line, identical natively and under wasm.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define DEFAULT_N 42

static uint32_t fib(uint32_t n)
{
    if (n < 2)
        return n;
    return fib(n - 1) + fib(n - 2);
}

int main(int argc, char **argv)
{
    uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : DEFAULT_N;
    printf("fib %u %u\n", (unsigned)n, (unsigned)fib(n));
    return 0;
}
