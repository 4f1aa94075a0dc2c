/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The DNS wire format by hand: the libraries Debian has for it (ldns, libknot) pull in a second
 * view of names and records the rest of the resolver would have to convert from, and the part we
 * need (header, names with compression, opaque rdata, OPT passthrough) is small enough to keep
 * here under a fuzz target. */
#define G_LOG_DOMAIN "portcullis-dns"

#include "pc-dns-message.h"

#include <arpa/inet.h>

#include <string.h>

#include "pc-error.h"

static void
question_clear (gpointer p)
{
  PcDnsQuestion *q = p;

  g_free (q->name);
}

static void
record_clear (gpointer p)
{
  PcDnsRecord *r = p;

  g_free (r->name);
  g_free (r->rdata);
}

PcDnsMessage *
pc_dns_message_new (void)
{
  PcDnsMessage *msg = g_new0 (PcDnsMessage, 1);

  msg->questions = g_array_new (FALSE, TRUE, sizeof (PcDnsQuestion));
  g_array_set_clear_func (msg->questions, question_clear);
  for (guint s = 0; s < PC_DNS_N_SECTIONS; s++)
    {
      msg->sections[s] = g_array_new (FALSE, TRUE, sizeof (PcDnsRecord));
      g_array_set_clear_func (msg->sections[s], record_clear);
    }
  return msg;
}

void
pc_dns_message_free (PcDnsMessage *msg)
{
  if (msg == NULL)
    return;
  g_array_unref (msg->questions);
  for (guint s = 0; s < PC_DNS_N_SECTIONS; s++)
    g_array_unref (msg->sections[s]);
  g_clear_pointer (&msg->edns_options, g_bytes_unref);
  g_free (msg);
}

/* ---- names ---------------------------------------------------------------------------------- */

gboolean
pc_dns_name_read (
    const guint8 *msg, gsize len, gsize *offset, guint8 out[PC_DNS_MAX_NAME], gsize *out_len)
{
  gsize pos = *offset;
  gsize end_after = 0; /* where the name ends in the message (after the first pointer) */
  gsize limit = pos;   /* a pointer must point before the segment that holds it: no loops */
  gsize n = 0;
  gboolean jumped = FALSE;

  for (;;)
    {
      guint8 b;

      if (pos >= len)
        return FALSE;
      b = msg[pos];
      if ((b & 0xc0) == 0xc0)
        {
          gsize target;

          if (pos + 1 >= len)
            return FALSE;
          target = ((gsize)(b & 0x3f) << 8) | msg[pos + 1];
          if (target >= limit)
            return FALSE;
          if (!jumped)
            end_after = pos + 2;
          jumped = TRUE;
          limit = target;
          pos = target;
          continue;
        }
      if ((b & 0xc0) != 0)
        return FALSE; /* 0x40 and 0x80 label types are obsolete (RFC 6891 section 5) */
      if (n + 1 + b > PC_DNS_MAX_NAME)
        return FALSE;
      if (pos + 1 + b > len)
        return FALSE;
      memcpy (out + n, msg + pos, 1 + b);
      n += 1 + b;
      pos += 1 + b;
      if (b == 0)
        break;
    }
  *offset = jumped ? end_after : pos;
  *out_len = n;
  return TRUE;
}

void
pc_dns_name_wire_to_string (const guint8 *wire, gsize len, char out[PC_DNS_NAME_STRLEN])
{
  gsize pos = 0;
  char *o = out;

  while (pos < len && wire[pos] != 0)
    {
      guint8 l = wire[pos++];

      if (o != out)
        *o++ = '.';
      for (guint i = 0; i < l && pos < len; i++, pos++)
        {
          guint8 c = wire[pos];

          if (c == '.' || c == '\\')
            {
              *o++ = '\\';
              *o++ = (char)c;
            }
          else if (c > 0x20 && c < 0x7f)
            *o++ = (char)c;
          else
            o += g_snprintf (o, 5, "\\%03u", c);
        }
    }
  if (o == out)
    *o++ = '.';
  *o = '\0';
}

gboolean
pc_dns_name_to_wire (const char *name, guint8 out[PC_DNS_MAX_NAME], gsize *out_len)
{
  const char *p = name;
  gsize n = 0;

  if (strcmp (name, ".") == 0 || *name == '\0')
    {
      out[0] = 0;
      *out_len = 1;
      return TRUE;
    }
  while (*p != '\0')
    {
      gsize len_pos = n++;
      guint label = 0;

      if (n >= PC_DNS_MAX_NAME)
        return FALSE;
      while (*p != '\0' && *p != '.')
        {
          guint c = (guchar)*p++;

          if (c == '\\')
            {
              if (g_ascii_isdigit (p[0]) && g_ascii_isdigit (p[1]) && g_ascii_isdigit (p[2]))
                {
                  c = (guint)(p[0] - '0') * 100 + (guint)(p[1] - '0') * 10 + (guint)(p[2] - '0');
                  if (c > 255)
                    return FALSE;
                  p += 3;
                }
              else if (*p != '\0')
                c = (guchar)*p++;
              else
                return FALSE;
            }
          if (n >= PC_DNS_MAX_NAME - 1 || ++label > 63)
            return FALSE;
          out[n++] = (guint8)c;
        }
      if (label == 0)
        return FALSE;
      out[len_pos] = (guint8)label;
      if (*p == '.')
        {
          p++;
          if (*p == '\0')
            break; /* one trailing dot: absolute name */
        }
    }
  out[n++] = 0;
  *out_len = n;
  return TRUE;
}

gboolean
pc_dns_name_equal (const char *a, const char *b)
{
  gsize la = strlen (a), lb = strlen (b);

  /* "example.com." and "example.com" are the same name */
  if (la > 1 && a[la - 1] == '.' && (la < 2 || a[la - 2] != '\\'))
    la--;
  if (lb > 1 && b[lb - 1] == '.' && (lb < 2 || b[lb - 2] != '\\'))
    lb--;
  return la == lb && g_ascii_strncasecmp (a, b, la) == 0;
}

gboolean
pc_dns_name_is_subdomain (const char *name, const char *zone)
{
  gsize ln = strlen (name), lz = strlen (zone);

  if (lz > 0 && zone[0] == '.')
    {
      zone++;
      lz--;
    }
  if (lz > 0 && zone[lz - 1] == '.')
    lz--;
  if (ln > 0 && name[ln - 1] == '.')
    ln--;
  if (lz == 0)
    return TRUE; /* everything is below the root */
  if (ln < lz || g_ascii_strncasecmp (name + ln - lz, zone, lz) != 0)
    return FALSE;
  return ln == lz || (name[ln - lz - 1] == '.' && (ln - lz < 2 || name[ln - lz - 2] != '\\'));
}

/* ---- parsing -------------------------------------------------------------------------------- */

typedef struct
{
  const guint8 *data;
  gsize len;
  gsize pos;
} Reader;

static gboolean
read_u16 (Reader *r, guint16 *out)
{
  if (r->pos + 2 > r->len)
    return FALSE;
  *out = (guint16)(r->data[r->pos] << 8 | r->data[r->pos + 1]);
  r->pos += 2;
  return TRUE;
}

static gboolean
read_u32 (Reader *r, guint32 *out)
{
  if (r->pos + 4 > r->len)
    return FALSE;
  *out = (guint32)r->data[r->pos] << 24 | (guint32)r->data[r->pos + 1] << 16
         | (guint32)r->data[r->pos + 2] << 8 | r->data[r->pos + 3];
  r->pos += 4;
  return TRUE;
}

static gboolean
read_name_string (Reader *r, char **out)
{
  guint8 wire[PC_DNS_MAX_NAME];
  gsize wlen;
  char text[PC_DNS_NAME_STRLEN];

  if (!pc_dns_name_read (r->data, r->len, &r->pos, wire, &wlen))
    return FALSE;
  pc_dns_name_wire_to_string (wire, wlen, text);
  *out = g_strdup (text);
  return TRUE;
}

/* Appends the name at *pos (inside rdata ending at end) uncompressed to out. */
static gboolean
copy_rdata_name (const guint8 *data, gsize len, gsize *pos, gsize end, GByteArray *out)
{
  guint8 wire[PC_DNS_MAX_NAME];
  gsize wlen;

  if (!pc_dns_name_read (data, end, pos, wire, &wlen) || *pos > len)
    return FALSE;
  g_byte_array_append (out, wire, (guint)wlen);
  return TRUE;
}

/* rdata of types whose names may be compressed (RFC 3597 section 4) comes out uncompressed;
 * fixed-size types are checked for their size. */
static gboolean
parse_rdata (
    const guint8 *data, gsize len, gsize start, guint16 rdlen, guint16 type, GByteArray *out)
{
  gsize pos = start;
  gsize end = start + rdlen;

  switch (type)
    {
      case PC_DNS_TYPE_A:
        if (rdlen != 4)
          return FALSE;
        break;
      case PC_DNS_TYPE_AAAA:
        if (rdlen != 16)
          return FALSE;
        break;
      case PC_DNS_TYPE_NS:
      case PC_DNS_TYPE_CNAME:
      case PC_DNS_TYPE_PTR:
        return copy_rdata_name (data, len, &pos, end, out) && pos == end;
      case PC_DNS_TYPE_MX:
        if (rdlen < 3)
          return FALSE;
        g_byte_array_append (out, data + pos, 2);
        pos += 2;
        return copy_rdata_name (data, len, &pos, end, out) && pos == end;
      case PC_DNS_TYPE_SOA:
        if (!copy_rdata_name (data, len, &pos, end, out)
            || !copy_rdata_name (data, len, &pos, end, out) || pos + 20 != end)
          return FALSE;
        g_byte_array_append (out, data + pos, 20);
        return TRUE;
      default:
        break;
    }
  g_byte_array_append (out, data + start, rdlen);
  return TRUE;
}

static gboolean
parse_record (Reader *r, PcDnsMessage *msg, PcDnsSection section, gboolean *seen_opt)
{
  PcDnsRecord rec = { 0 };
  guint16 rdlen;
  guint ttl_offset;
  g_autoptr (GByteArray) rdata = NULL;
  g_autofree char *name = NULL;

  if (!read_name_string (r, &name) || !read_u16 (r, &rec.type) || !read_u16 (r, &rec.klass))
    return FALSE;
  ttl_offset = (guint)r->pos;
  if (!read_u32 (r, &rec.ttl) || !read_u16 (r, &rdlen) || r->pos + rdlen > r->len)
    return FALSE;

  if (rec.type == PC_DNS_TYPE_OPT)
    {
      /* one OPT, in the additional section, owned by the root (RFC 6891 section 6.1.1) */
      if (section != PC_DNS_SECTION_ADDITIONAL || *seen_opt || strcmp (name, ".") != 0)
        return FALSE;
      *seen_opt = TRUE;
      msg->has_edns = TRUE;
      msg->edns_udp_size = rec.klass;
      msg->edns_ext_rcode = (guint8)(rec.ttl >> 24);
      msg->edns_version = (guint8)(rec.ttl >> 16);
      msg->edns_flags = (guint16)rec.ttl;
      msg->edns_options = g_bytes_new (r->data + r->pos, rdlen);
      r->pos += rdlen;
      return TRUE;
    }

  rdata = g_byte_array_sized_new (rdlen);
  if (!parse_rdata (r->data, r->len, r->pos, rdlen, rec.type, rdata) || rdata->len > G_MAXUINT16)
    return FALSE;
  r->pos += rdlen;
  rec.name = g_steal_pointer (&name);
  rec.rdlen = (guint16)rdata->len;
  rec.rdata = g_byte_array_free (g_steal_pointer (&rdata), FALSE);
  rec.ttl_offset = ttl_offset;
  g_array_append_val (msg->sections[section], rec);
  return TRUE;
}

PcDnsMessage *
pc_dns_message_parse (const guint8 *data, gsize len, GError **error)
{
  g_autoptr (PcDnsMessage) msg = pc_dns_message_new ();
  Reader r = { data, len, 0 };
  guint16 counts[4];
  gboolean seen_opt = FALSE;

  if (len < PC_DNS_HEADER_LEN)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS,
                   "dns message of %" G_GSIZE_FORMAT " bytes is shorter than its header", len);
      return NULL;
    }
  read_u16 (&r, &msg->id);
  read_u16 (&r, &msg->flags);
  for (guint i = 0; i < 4; i++)
    read_u16 (&r, &counts[i]);

  for (guint i = 0; i < counts[0]; i++)
    {
      PcDnsQuestion q = { 0 };

      if (!read_name_string (&r, &q.name) || !read_u16 (&r, &q.type) || !read_u16 (&r, &q.klass))
        {
          g_free (q.name);
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS,
                       "dns message: question %u is malformed at byte %" G_GSIZE_FORMAT, i, r.pos);
          return NULL;
        }
      g_array_append_val (msg->questions, q);
    }
  for (guint s = 0; s < PC_DNS_N_SECTIONS; s++)
    for (guint i = 0; i < counts[s + 1]; i++)
      if (!parse_record (&r, msg, (PcDnsSection)s, &seen_opt))
        {
          static const char *const names[] = { "answer", "authority", "additional" };
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS,
                       "dns message: %s record %u is malformed at byte %" G_GSIZE_FORMAT, names[s],
                       i, r.pos);
          return NULL;
        }
  if (r.pos != len)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS,
                   "dns message: %" G_GSIZE_FORMAT " bytes after the last record", len - r.pos);
      return NULL;
    }
  return g_steal_pointer (&msg);
}

/* ---- building ------------------------------------------------------------------------------- */

typedef struct
{
  guint16 offset; /* where this suffix starts in the output */
  guint8 len;
  guint8 wire[PC_DNS_MAX_NAME];
} Suffix;

typedef struct
{
  GByteArray *out;
  GArray *suffixes; /* Suffix */
} Writer;

static void
put_u16 (GByteArray *out, guint16 v)
{
  guint8 b[2] = { (guint8)(v >> 8), (guint8)v };

  g_byte_array_append (out, b, 2);
}

static void
put_u32 (GByteArray *out, guint32 v)
{
  guint8 b[4] = { (guint8)(v >> 24), (guint8)(v >> 16), (guint8)(v >> 8), (guint8)v };

  g_byte_array_append (out, b, 4);
}

static gboolean
wire_equal_nocase (const guint8 *a, const guint8 *b, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if (g_ascii_tolower (a[i]) != g_ascii_tolower (b[i]))
      return FALSE;
  return TRUE;
}

/* Writes a name, pointing at the longest suffix already written (RFC 1035 section 4.1.4). */
static gboolean
put_name (Writer *w, const char *name)
{
  guint8 wire[PC_DNS_MAX_NAME];
  gsize wlen;
  gsize pos = 0;

  if (!pc_dns_name_to_wire (name, wire, &wlen))
    return FALSE;
  while (wire[pos] != 0)
    {
      gsize rest = wlen - pos;

      for (guint i = 0; i < w->suffixes->len; i++)
        {
          Suffix *s = &g_array_index (w->suffixes, Suffix, i);

          if (s->len == rest && wire_equal_nocase (s->wire, wire + pos, rest))
            {
              put_u16 (w->out, 0xc000 | s->offset);
              return TRUE;
            }
        }
      if (w->out->len < 0x4000)
        {
          Suffix s = { .offset = (guint16)w->out->len, .len = (guint8)rest };

          memcpy (s.wire, wire + pos, rest);
          g_array_append_val (w->suffixes, s);
        }
      g_byte_array_append (w->out, wire + pos, wire[pos] + 1);
      pos += wire[pos] + 1;
    }
  g_byte_array_append (w->out, (const guint8 *)"", 1);
  return TRUE;
}

static void
set_u16_at (GByteArray *out, gsize at, guint16 v)
{
  out->data[at] = (guint8)(v >> 8);
  out->data[at + 1] = (guint8)v;
}

GBytes *
pc_dns_message_build (const PcDnsMessage *msg, gsize max_len, GError **error)
{
  g_autoptr (GByteArray) out = g_byte_array_sized_new (512);
  g_autoptr (GArray) suffixes = g_array_new (FALSE, FALSE, sizeof (Suffix));
  Writer w = { out, suffixes };
  gsize opt_len = 0;
  guint16 counts[4] = { 0 };
  gboolean truncated = FALSE;

  if (max_len == 0 || max_len > 65535)
    max_len = 65535;
  if (msg->has_edns)
    opt_len = 11 + (msg->edns_options != NULL ? g_bytes_get_size (msg->edns_options) : 0);

  put_u16 (out, msg->id);
  put_u16 (out, msg->flags);
  for (guint i = 0; i < 4; i++)
    put_u16 (out, 0);

  for (guint i = 0; i < msg->questions->len; i++)
    {
      PcDnsQuestion *q = &g_array_index (msg->questions, PcDnsQuestion, i);

      if (!put_name (&w, q->name))
        {
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS, "invalid dns name %s", q->name);
          return NULL;
        }
      put_u16 (out, q->type);
      put_u16 (out, q->klass);
      counts[0]++;
    }
  if (out->len + opt_len > max_len)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_LIMIT,
                   "dns message question does not fit in %" G_GSIZE_FORMAT " bytes", max_len);
      return NULL;
    }

  for (guint s = 0; s < PC_DNS_N_SECTIONS && !truncated; s++)
    for (guint i = 0; i < msg->sections[s]->len && !truncated; i++)
      {
        PcDnsRecord *rec = &g_array_index (msg->sections[s], PcDnsRecord, i);
        guint before = out->len;
        guint n_suffixes = suffixes->len;

        if (!put_name (&w, rec->name))
          {
            g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS, "invalid dns name %s", rec->name);
            return NULL;
          }
        put_u16 (out, rec->type);
        put_u16 (out, rec->klass);
        put_u32 (out, rec->ttl);
        put_u16 (out, rec->rdlen);
        g_byte_array_append (out, rec->rdata, rec->rdlen);
        if (out->len + opt_len > max_len)
          {
            g_byte_array_set_size (out, before);
            g_array_set_size (suffixes, n_suffixes);
            truncated = TRUE;
            break;
          }
        counts[s + 1]++;
      }

  if (msg->has_edns)
    {
      g_byte_array_append (out, (const guint8 *)"", 1);
      put_u16 (out, PC_DNS_TYPE_OPT);
      put_u16 (out, msg->edns_udp_size);
      put_u32 (out, (guint32)msg->edns_ext_rcode << 24 | (guint32)msg->edns_version << 16
                        | msg->edns_flags);
      put_u16 (out, (guint16)(opt_len - 11));
      if (opt_len > 11)
        g_byte_array_append (out, g_bytes_get_data (msg->edns_options, NULL),
                             (guint)(opt_len - 11));
      counts[3]++;
    }

  set_u16_at (out, 2, truncated ? (msg->flags | PC_DNS_FLAG_TC) : msg->flags);
  for (guint i = 0; i < 4; i++)
    set_u16_at (out, 4 + i * 2, counts[i]);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

void
pc_dns_message_add_question (PcDnsMessage *msg, const char *name, guint16 type, guint16 klass)
{
  PcDnsQuestion q = { g_strdup (name), type, klass };

  g_array_append_val (msg->questions, q);
}

void
pc_dns_message_add_record (PcDnsMessage *msg,
                           PcDnsSection section,
                           const char *name,
                           guint16 type,
                           guint16 klass,
                           guint32 ttl,
                           const guint8 *rdata,
                           guint16 rdlen)
{
  PcDnsRecord rec = {
    .name = g_strdup (name),
    .type = type,
    .klass = klass,
    .ttl = ttl,
    .rdlen = rdlen,
    .rdata = g_memdup2 (rdata, rdlen),
  };

  g_array_append_val (msg->sections[section], rec);
}

void
pc_dns_message_remove_record (PcDnsMessage *msg, PcDnsSection section, guint i)
{
  g_array_remove_index (msg->sections[section], i);
}

PcDnsMessage *
pc_dns_message_new_reply (const PcDnsMessage *query, PcDnsRcode rcode)
{
  PcDnsMessage *reply = pc_dns_message_new ();

  reply->id = query->id;
  reply->flags = PC_DNS_FLAG_QR | PC_DNS_FLAG_RA
                 | (query->flags & (0x7800 | PC_DNS_FLAG_RD | PC_DNS_FLAG_CD)) | (rcode & 0xf);
  for (guint i = 0; i < query->questions->len; i++)
    {
      PcDnsQuestion *q = &g_array_index (query->questions, PcDnsQuestion, i);
      pc_dns_message_add_question (reply, q->name, q->type, q->klass);
    }
  if (query->has_edns)
    {
      reply->has_edns = TRUE;
      reply->edns_udp_size = 1232; /* the DNS flag day 2020 size: no IP fragmentation */
      reply->edns_flags = query->edns_flags & 0x8000;
    }
  return reply;
}

GBytes *
pc_dns_build_error_reply (const guint8 *query, gsize len, PcDnsRcode rcode)
{
  g_autoptr (PcDnsMessage) parsed = NULL;
  g_autoptr (PcDnsMessage) reply = NULL;

  if (len < PC_DNS_HEADER_LEN || (query[2] & 0x80) != 0)
    return NULL;
  parsed = pc_dns_message_parse (query, len, NULL);
  if (parsed != NULL && parsed->questions->len == 1)
    reply = pc_dns_message_new_reply (parsed, rcode);
  else
    {
      /* unparseable: the header alone, with the client's id and opcode (RFC 1035 4.1.1) */
      reply = pc_dns_message_new ();
      reply->id = (guint16)(query[0] << 8 | query[1]);
      reply->flags = PC_DNS_FLAG_QR | PC_DNS_FLAG_RA
                     | ((guint16)(query[2] << 8) & (0x7800 | PC_DNS_FLAG_RD)) | (rcode & 0xf);
    }
  return pc_dns_message_build (reply, 512, NULL);
}

gsize
pc_dns_question_end (const guint8 *wire, gsize len)
{
  gsize pos = PC_DNS_HEADER_LEN;
  guint qd;

  if (len < PC_DNS_HEADER_LEN)
    return 0;
  qd = (guint)(wire[4] << 8 | wire[5]);
  for (guint i = 0; i < qd; i++)
    {
      guint8 name[PC_DNS_MAX_NAME];
      gsize n;

      if (!pc_dns_name_read (wire, len, &pos, name, &n) || pos + 4 > len)
        return 0;
      pos += 4;
    }
  return pos;
}

gboolean
pc_dns_reply_matches_query (const guint8 *reply,
                            gsize reply_len,
                            const guint8 *query,
                            gsize query_len)
{
  gsize qend = pc_dns_question_end (query, query_len);

  if (qend == 0 || reply_len < qend || (reply[2] & 0x80) == 0 || reply[0] != query[0]
      || reply[1] != query[1] || reply[4] != query[4] || reply[5] != query[5])
    return FALSE;
  /* the question section compares byte for byte but for letter case; a compressed question in
   * a reply would not, and no server sends one */
  for (gsize i = PC_DNS_HEADER_LEN; i < qend; i++)
    if (g_ascii_tolower (reply[i]) != g_ascii_tolower (query[i]))
      return FALSE;
  return TRUE;
}

/* ---- names of things ------------------------------------------------------------------------ */

const char *
pc_dns_type_to_string (guint16 type, char buf[16])
{
  switch (type)
    {
      case PC_DNS_TYPE_A:
        return "A";
      case PC_DNS_TYPE_NS:
        return "NS";
      case PC_DNS_TYPE_CNAME:
        return "CNAME";
      case PC_DNS_TYPE_SOA:
        return "SOA";
      case PC_DNS_TYPE_PTR:
        return "PTR";
      case PC_DNS_TYPE_MX:
        return "MX";
      case PC_DNS_TYPE_TXT:
        return "TXT";
      case PC_DNS_TYPE_AAAA:
        return "AAAA";
      case PC_DNS_TYPE_SRV:
        return "SRV";
      case PC_DNS_TYPE_OPT:
        return "OPT";
      case PC_DNS_TYPE_HTTPS:
        return "HTTPS";
      case PC_DNS_TYPE_ANY:
        return "ANY";
      default:
        g_snprintf (buf, 16, "TYPE%u", type);
        return buf;
    }
}

const char *
pc_dns_rcode_to_string (guint rcode)
{
  static const char *const names[]
      = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED" };

  return rcode < G_N_ELEMENTS (names) ? names[rcode] : "RCODE?";
}

gboolean
pc_dns_message_negative_ttl (const PcDnsMessage *msg, guint32 *ttl)
{
  GArray *auth = msg->sections[PC_DNS_SECTION_AUTHORITY];

  for (guint i = 0; i < auth->len; i++)
    {
      PcDnsRecord *rec = &g_array_index (auth, PcDnsRecord, i);
      guint8 tmp[PC_DNS_MAX_NAME];
      gsize pos = 0, n;
      guint32 minimum;

      if (rec->type != PC_DNS_TYPE_SOA)
        continue;
      /* rdata is uncompressed: mname, rname, then 5 32-bit fields, MINIMUM last */
      if (!pc_dns_name_read (rec->rdata, rec->rdlen, &pos, tmp, &n)
          || !pc_dns_name_read (rec->rdata, rec->rdlen, &pos, tmp, &n) || pos + 20 != rec->rdlen)
        continue;
      minimum = (guint32)rec->rdata[pos + 16] << 24 | (guint32)rec->rdata[pos + 17] << 16
                | (guint32)rec->rdata[pos + 18] << 8 | rec->rdata[pos + 19];
      *ttl = MIN (rec->ttl, minimum);
      return TRUE;
    }
  return FALSE;
}

gboolean
pc_dns_type_from_string (const char *text, guint16 *type)
{
  static const guint16 known[]
      = { PC_DNS_TYPE_A,   PC_DNS_TYPE_NS,  PC_DNS_TYPE_CNAME, PC_DNS_TYPE_SOA,
          PC_DNS_TYPE_PTR, PC_DNS_TYPE_MX,  PC_DNS_TYPE_TXT,   PC_DNS_TYPE_AAAA,
          PC_DNS_TYPE_SRV, PC_DNS_TYPE_OPT, PC_DNS_TYPE_HTTPS, PC_DNS_TYPE_ANY };
  const char *digits = text;
  guint64 v;

  for (gsize i = 0; i < G_N_ELEMENTS (known); i++)
    {
      char buf[16];
      if (g_ascii_strcasecmp (text, pc_dns_type_to_string (known[i], buf)) == 0)
        {
          *type = known[i];
          return TRUE;
        }
    }
  if (g_ascii_strncasecmp (text, "TYPE", 4) == 0)
    digits = text + 4;
  if (*digits == '\0' || !g_ascii_string_to_unsigned (digits, 10, 1, 65535, &v, NULL))
    return FALSE;
  *type = (guint16)v;
  return TRUE;
}

/* Length of an uncompressed wire name at the start of data (0 when it runs past len). */
static gsize
wire_name_len (const guint8 *data, gsize len)
{
  gsize pos = 0;

  while (pos < len && data[pos] != 0)
    pos += 1 + data[pos];
  return pos < len ? pos + 1 : 0;
}

static void
append_name (GString *s, const guint8 *wire, gsize len)
{
  char name[PC_DNS_NAME_STRLEN];

  pc_dns_name_wire_to_string (wire, len, name);
  g_string_append (s, name);
  if (strcmp (name, ".") != 0)
    g_string_append_c (s, '.');
}

static gboolean
append_rdata (GString *s, const PcDnsRecord *rec)
{
  const guint8 *d = rec->rdata;
  gsize n = rec->rdlen;
  char addr[INET6_ADDRSTRLEN];

  switch (rec->type)
    {
      case PC_DNS_TYPE_A:
      case PC_DNS_TYPE_AAAA:
        if (n != (rec->type == PC_DNS_TYPE_A ? 4u : 16u))
          return FALSE;
        inet_ntop (rec->type == PC_DNS_TYPE_A ? AF_INET : AF_INET6, d, addr, sizeof addr);
        g_string_append (s, addr);
        return TRUE;
      case PC_DNS_TYPE_NS:
      case PC_DNS_TYPE_CNAME:
      case PC_DNS_TYPE_PTR:
        if (wire_name_len (d, n) != n)
          return FALSE;
        append_name (s, d, n);
        return TRUE;
      case PC_DNS_TYPE_MX:
        if (n < 3 || wire_name_len (d + 2, n - 2) != n - 2)
          return FALSE;
        g_string_append_printf (s, "%u ", (guint)(d[0] << 8 | d[1]));
        append_name (s, d + 2, n - 2);
        return TRUE;
      case PC_DNS_TYPE_SRV:
        if (n < 7 || wire_name_len (d + 6, n - 6) != n - 6)
          return FALSE;
        g_string_append_printf (s, "%u %u %u ", (guint)(d[0] << 8 | d[1]),
                                (guint)(d[2] << 8 | d[3]), (guint)(d[4] << 8 | d[5]));
        append_name (s, d + 6, n - 6);
        return TRUE;
      case PC_DNS_TYPE_SOA:
        {
          gsize m = wire_name_len (d, n);
          gsize r = m > 0 ? wire_name_len (d + m, n - m) : 0;
          const guint8 *t;

          if (m == 0 || r == 0 || n != m + r + 20)
            return FALSE;
          append_name (s, d, m);
          g_string_append_c (s, ' ');
          append_name (s, d + m, r);
          t = d + m + r;
          for (guint i = 0; i < 5; i++, t += 4)
            g_string_append_printf (
                s, " %u",
                (guint)((guint32)t[0] << 24 | (guint32)t[1] << 16 | (guint32)t[2] << 8 | t[3]));
          return TRUE;
        }
      case PC_DNS_TYPE_TXT:
        {
          gsize pos = 0;

          if (n == 0)
            return FALSE;
          while (pos < n)
            {
              guint8 l = d[pos++];

              if (pos + l > n)
                return FALSE;
              g_string_append (s, pos > 1 ? " \"" : "\"");
              for (guint i = 0; i < l; i++, pos++)
                {
                  guint8 c = d[pos];
                  if (c == '"' || c == '\\')
                    g_string_append_printf (s, "\\%c", c);
                  else if (c >= 0x20 && c < 0x7f)
                    g_string_append_c (s, (char)c);
                  else
                    g_string_append_printf (s, "\\%03u", c);
                }
              g_string_append_c (s, '"');
            }
          return TRUE;
        }
      default:
        return FALSE;
    }
}

char *
pc_dns_record_to_string (const PcDnsRecord *rec)
{
  GString *s = g_string_new (rec->name);
  char buf[16];
  gsize mark;

  if (strcmp (rec->name, ".") != 0)
    g_string_append_c (s, '.');
  g_string_append_printf (s, " %u %s ", rec->ttl, pc_dns_type_to_string (rec->type, buf));
  mark = s->len;
  if (!append_rdata (s, rec))
    {
      /* RFC 3597: any type, or a known one whose data does not parse */
      g_string_truncate (s, mark);
      g_string_append_printf (s, "\\# %u", rec->rdlen);
      if (rec->rdlen > 0)
        g_string_append_c (s, ' ');
      for (guint i = 0; i < rec->rdlen; i++)
        g_string_append_printf (s, "%02x", rec->rdata[i]);
    }
  return g_string_free (s, FALSE);
}
