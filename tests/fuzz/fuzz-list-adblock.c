/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Fuzz target for the filter list parser in the "adblock" format (lists are downloaded or written
 * by users: untrusted bytes). The checks are in fuzz-list-common.h. */
#define G_LOG_DOMAIN "portcullis-fuzz"

#include "fuzz-list-common.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  return fuzz_list_run (data, size, PC_LIST_FORMAT_ADBLOCK);
}
