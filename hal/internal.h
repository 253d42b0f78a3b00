/*
 * internal.h - what the hal/ files share and nobody else sees.
 */
#ifndef WASMD_HAL_INTERNAL_H
#define WASMD_HAL_INTERNAL_H

#include "hal/hal.h"

#include <stdint.h>

/* A positive errno value as the nearest named status. */
hal_status hal__from_errno(int err);

/* The monotonic clock in nanoseconds (the timestamps of simulated edges). */
uint64_t hal__now_ns(void);

#endif /* WASMD_HAL_INTERNAL_H */
