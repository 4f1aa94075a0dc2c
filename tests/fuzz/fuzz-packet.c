/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Fuzz target: the queued-packet parser (helper/intercept/pc-packet.c) over hostile bytes. */
#include <stddef.h>
#include <stdint.h>

#include "pc-packet.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  PcPacketInfo info;

  if (pc_packet_parse (data, size, &info))
    {
      /* A parsed packet names a family the rest of the helper understands. */
      if (info.src.family != AF_INET && info.src.family != AF_INET6)
        __builtin_trap ();
    }
  return 0;
}
