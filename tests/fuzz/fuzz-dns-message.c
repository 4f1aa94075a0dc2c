/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Fuzz target: the DNS message parser and builder (helper/dns/pc-dns-message.c). Whatever parses
 * must build again and parse back to the same shape; every input gets an error reply or none. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pc-dns-message.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (PcDnsMessage) msg = pc_dns_message_parse (data, size, NULL);
  g_autoptr (GBytes) err_reply = pc_dns_build_error_reply (data, size, PC_DNS_RCODE_FORMERR);

  /* the cheap checks the upstream transports and the cache run on raw answers */
  if (pc_dns_question_end (data, size) > size)
    __builtin_trap ();
  pc_dns_reply_matches_query (data, size, data, size);

  if (err_reply != NULL)
    {
      g_autoptr (PcDnsMessage) back = pc_dns_message_parse (g_bytes_get_data (err_reply, NULL),
                                                            g_bytes_get_size (err_reply), NULL);
      if (back == NULL || PC_DNS_RCODE (back->flags) != PC_DNS_RCODE_FORMERR)
        __builtin_trap ();
    }
  if (msg != NULL)
    {
      g_autoptr (GBytes) built = pc_dns_message_build (msg, 0, NULL);
      g_autoptr (GBytes) small = pc_dns_message_build (msg, 512, NULL);
      g_autoptr (PcDnsMessage) again = NULL;
      guint32 ttl;

      pc_dns_message_negative_ttl (msg, &ttl);
      /* QueryDns shows every record as text, whatever its data */
      for (guint sec = 0; sec < PC_DNS_N_SECTIONS; sec++)
        for (guint i = 0; i < msg->sections[sec]->len; i++)
          g_free (pc_dns_record_to_string (&g_array_index (msg->sections[sec], PcDnsRecord, i)));
      /* names that came out of the parser are valid names; only size limits can fail */
      if (built == NULL)
        return 0;
      again = pc_dns_message_parse (g_bytes_get_data (built, NULL), g_bytes_get_size (built), NULL);
      if (again == NULL || again->questions->len != msg->questions->len
          || again->has_edns != msg->has_edns)
        __builtin_trap ();
      /* uncompressed rdata may grow a message past 65535 bytes: then it is truncated */
      for (guint s = 0; s < PC_DNS_N_SECTIONS && (again->flags & PC_DNS_FLAG_TC) == 0; s++)
        if (again->sections[s]->len != msg->sections[s]->len)
          __builtin_trap ();
      if (small != NULL && g_bytes_get_size (small) > 512)
        __builtin_trap ();
    }
  return 0;
}
