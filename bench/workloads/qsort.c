/*
 * qsort - hand-written quicksort of pseudo-random 32-bit ints, repeated:
 * memory loads and stores, compares, unpredictable branches, recursion.
 *
 *   qsort [ROUNDS]    sorts a fresh array of N ints ROUNDS times
 *
 * Each round checks that the result is sorted (exit 1 if not), then folds
 * it into a hash; prints one checksum line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define DEFAULT_ROUNDS 30
#define N 200000
#define SMALL 16   /* below this, insertion sort */

static int32_t a[N];

static void insertion_sort(int32_t *v, int32_t n)
{
    for (int32_t i = 1; i < n; i++) {
        int32_t x = v[i];
        int32_t j = i - 1;
        while (j >= 0 && v[j] > x) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = x;
    }
}

static void swap(int32_t *v, int32_t i, int32_t j)
{
    int32_t t = v[i];
    v[i] = v[j];
    v[j] = t;
}

/* Quicksort with a median-of-three pivot and Hoare partitioning; recurses
 * into the smaller part and loops on the larger, so the depth is O(log n). */
static void quicksort(int32_t *v, int32_t n)
{
    while (n > SMALL) {
        int32_t mid = n / 2, last = n - 1;
        if (v[mid] < v[0])
            swap(v, mid, 0);
        if (v[last] < v[0])
            swap(v, last, 0);
        if (v[last] < v[mid])
            swap(v, last, mid);
        int32_t pivot = v[mid];

        int32_t i = -1, j = n;
        for (;;) {
            do
                i++;
            while (v[i] < pivot);
            do
                j--;
            while (v[j] > pivot);
            if (i >= j)
                break;
            swap(v, i, j);
        }
        /* v[0..j] <= pivot <= v[j+1..n-1] */
        int32_t left = j + 1, right = n - left;
        if (left < right) {
            quicksort(v, left);
            v += left;
            n = right;
        } else {
            quicksort(v + left, right);
            n = left;
        }
    }
    insertion_sort(v, n);
}

int main(int argc, char **argv)
{
    unsigned rounds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : DEFAULT_ROUNDS;
    uint32_t seed = 1;
    uint32_t hash = 2166136261u;

    for (unsigned r = 0; r < rounds; r++) {
        for (int32_t i = 0; i < N; i++) {
            seed = seed * 1664525u + 1013904223u;   /* LCG */
            /* Every 8th round, a narrow range: many duplicates. */
            a[i] = (r & 7) == 7 ? (int32_t)(seed >> 24) : (int32_t)seed;
        }
        quicksort(a, N);
        for (int32_t i = 1; i < N; i++) {
            if (a[i - 1] > a[i]) {
                fprintf(stderr, "qsort: round %u not sorted at %d\n", r, (int)i);
                return 1;
            }
        }
        for (int32_t i = 0; i < N; i += 97)          /* FNV-1a over a sample */
            hash = (hash ^ (uint32_t)a[i]) * 16777619u;
    }
    printf("qsort %u %d %d %08x\n", rounds, (int)a[0], (int)a[N - 1], (unsigned)hash);
    return 0;
}
