/**
 * @file polycom_wire.h
 * @brief How a child hands a batch of check-ins to the node's check-in
 * writer process, over a local socket. Pure: no httpd headers.
 *
 * A message is a fixed 32-byte header, "PCW1 <server 8 hex> <rows 8 hex>
 * <payload bytes 8 hex>\n" (with single spaces), then the payload: each
 * row's fields in a fixed order, each one a netstring ("<length>:<bytes>,").
 * The writer answers each message with "OK\n" once the rows are committed,
 * or "NO\n" when they are not (the child then writes them itself).
 */
#ifndef POLYCOM_WIRE_H
#define POLYCOM_WIRE_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "polycom_store.h"

#define POLYCOM_WIRE_HEADER 32
#define POLYCOM_WIRE_MAX_ROWS 65536
#define POLYCOM_WIRE_MAX_PAYLOAD (64 * 1024 * 1024)
#define POLYCOM_WIRE_OK "OK\n"
#define POLYCOM_WIRE_NO "NO\n"
#define POLYCOM_WIRE_REPLY 3

/** The whole message (header and payload) for @a count check-ins bound
 *  for the server numbered @a server; *length is its size. */
char *polycom_wire_encode(apr_pool_t *pool, unsigned server,
                          const polycom_checkin *const *list, int count,
                          apr_size_t *length);

/** Parse a header; 0 when it is well-formed and within the limits. */
int polycom_wire_header(const char *header, unsigned *server,
                        unsigned *count, apr_size_t *payload);

/** Decode a payload of @a count rows into an array of polycom_checkin
 *  (strings allocated in @a pool); NULL when the payload is malformed,
 *  holds more or fewer rows, or has bytes left over. */
apr_array_header_t *polycom_wire_decode(apr_pool_t *pool, const char *payload,
                                        apr_size_t length, unsigned count);

#endif
