/*
 * limits.h - every limit of the engine, in one place.
 *
 * The WR_DEFAULT_* values apply where the embedder leaves a wr_limits field
 * at zero; the WR_MAX_* values bound what a module may declare, so that a
 * hostile module is rejected before anything large is allocated.
 */
#ifndef WR_LIMITS_H
#define WR_LIMITS_H

#include <stdint.h>

#define WR_PAGE_SIZE 65536u

/* Defaults for wr_limits (runtime/wr.h). */
#ifndef WR_DEFAULT_MAX_MEMORY_PAGES
#if UINTPTR_MAX > 0xffffffffu
#define WR_DEFAULT_MAX_MEMORY_PAGES 65536u   /* 4 GiB: the whole 32-bit address space */
#else
#define WR_DEFAULT_MAX_MEMORY_PAGES 16384u   /* 1 GiB on 32-bit hosts */
#endif
#endif
/*
 * Address space reserved for a linear memory when it is created, so that
 * memory.grow commits pages in place (mprotect) instead of copying: up to
 * the memory's effective maximum, at most this many bytes.  Reserved pages
 * cost no RAM until touched.  On 64-bit hosts the whole 32-bit range fits;
 * on 32-bit hosts address space is scarce (1,000 instances must fit in
 * 3 GiB), so nothing beyond the current size is reserved and memory.grow
 * extends the mapping with mremap, which moves page tables, not bytes.
 */
#ifndef WR_MEMORY_RESERVE_MAX
#if UINTPTR_MAX > 0xffffffffu
#define WR_MEMORY_RESERVE_MAX (65536ull * WR_PAGE_SIZE)
#else
#define WR_MEMORY_RESERVE_MAX 0ull
#endif
#endif
#ifndef WR_DEFAULT_MAX_TABLE_ELEMS
#define WR_DEFAULT_MAX_TABLE_ELEMS 10000000u
#endif
#ifndef WR_DEFAULT_VALUE_STACK_SLOTS
#define WR_DEFAULT_VALUE_STACK_SLOTS (128u * 1024u) /* 1 MiB of 8-byte slots */
#endif
#ifndef WR_DEFAULT_MAX_CALL_DEPTH
#define WR_DEFAULT_MAX_CALL_DEPTH 10000u
#endif

/*
 * Fuel: what one unit buys besides a loop iteration or a function entry
 * (see wr_exec_set_fuel in wr.h).  Work whose size the guest chooses is
 * charged by its size, so that a slice of fuel stays a slice of time.
 */
#define WR_FUEL_BULK_BYTES      64u     /* bytes of memory.fill/copy/init per unit */
#define WR_FUEL_BULK_ELEMS      8u      /* elements of table.fill/copy/init/grow per unit */
#define WR_FUEL_GROW_PAGE       (WR_PAGE_SIZE / WR_FUEL_BULK_BYTES) /* per page of memory.grow (zeroed) */
#define WR_FUEL_HOST_CALL       8u      /* per call of a host function, before what it charges itself */
/* Straight-line code: a loop iteration costs one unit more per this many cells of internal code in
 * its body, a call one more per this many in the callee, so that no unit of fuel buys unbounded work. */
#define WR_FUEL_CODE_CELLS      256u
/* With a deadline (wr_exec_set_deadline), the clock is read each time this much fuel is spent. */
#define WR_FUEL_CHECK_INTERVAL  4096u

/* What a module may declare (checked by the decoder and validator). */
#define WR_MAX_MODULE_SIZE      (256u * 1024u * 1024u) /* bytes of one binary */
#define WR_MAX_TYPES            1000000u
#define WR_MAX_FUNCS            1000000u
#define WR_MAX_IMPORTS          100000u
#define WR_MAX_EXPORTS          100000u
#define WR_MAX_GLOBALS          1000000u
#define WR_MAX_TABLES           100000u
#define WR_MAX_ELEM_SEGMENTS    100000u
#define WR_MAX_DATA_SEGMENTS    100000u
#define WR_MAX_PARAMS           1000u   /* per function type, and results too */
#define WR_MAX_LOCALS           50000u  /* per function, params included */
#define WR_MAX_BR_TABLE         1000000u /* targets of one br_table */
#define WR_MAX_BLOCK_DEPTH      10000u  /* nested blocks in one function */
#define WR_MAX_NAME_LEN         100000u /* bytes of an import/export name */
#define WR_MAX_MEMORY_DECL      65536u  /* pages: the spec's limit for 32-bit memories */
#define WR_MAX_FRAME_SLOTS      (WR_MAX_LOCALS + 70000u) /* locals + operand stack of one frame */
#define WR_MAX_BACKTRACE        32u     /* frames kept after a trap */
#define WR_MAX_CONST_POOL       32u     /* constants kept in frame slots, per function */

#endif /* WR_LIMITS_H */
