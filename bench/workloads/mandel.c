/*
 * mandel - Mandelbrot set escape-time iteration over a grid: a tight f64
 * loop (multiply, add, compare) with a data-dependent trip count.
 *
 *   mandel [SIDE]     iterates every point of a SIDE x SIDE grid over
 *                     [-2, 0.5] x [-1.25, 1.25], at most MAX_ITER times
 *
 * Prints one checksum line: the total iteration count, the number of points
 * inside the set, and a hash of the per-point counts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define DEFAULT_SIDE 640
#define MAX_ITER 1000

static int escape_time(double cr, double ci)
{
    double zr = 0, zi = 0, zr2 = 0, zi2 = 0;
    int k = 0;
    while (k < MAX_ITER && zr2 + zi2 <= 4.0) {
        zi = 2 * zr * zi + ci;
        zr = zr2 - zi2 + cr;
        zr2 = zr * zr;
        zi2 = zi * zi;
        k++;
    }
    return k;
}

int main(int argc, char **argv)
{
    int side = argc > 1 ? atoi(argv[1]) : DEFAULT_SIDE;
    if (side < 2)
        side = 2;
    uint64_t total = 0;
    uint32_t inside = 0, hash = 2166136261u;
    double step = 2.5 / (side - 1);

    for (int y = 0; y < side; y++) {
        double ci = -1.25 + y * step;
        for (int x = 0; x < side; x++) {
            double cr = -2.0 + x * step;
            int k = escape_time(cr, ci);
            total += (uint64_t)k;
            inside += k == MAX_ITER;
            hash = (hash ^ (uint32_t)k) * 16777619u;    /* FNV-1a */
        }
    }
    printf("mandel %d %llu %u %08x\n", side, (unsigned long long)total, (unsigned)inside,
           (unsigned)hash);
    return 0;
}
