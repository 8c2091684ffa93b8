/**
 * @file polycom_checkin.h
 * @brief One check-in, defined once.
 *
 * A check-in travels from the request (mod_polycom_checkin.c) through a
 * child's queue, possibly over a socket to the node's check-in writer
 * (wire.c), into the checkins table (store.c). The struct, its copy into
 * the queue's pool, both directions of the wire format and the INSERT's
 * columns and values are all generated from POLYCOM_CHECKIN_FIELDS, so a
 * field added here reaches every step, in the same order, or the build
 * fails. Pure: APR only.
 */
#ifndef POLYCOM_CHECKIN_H
#define POLYCOM_CHECKIN_H

#include <apr_pools.h>
#include <apr_time.h>

#include "polycom_name.h"

/*
 * X(type, field, column): column is the checkins column the field is
 * stored in, or NULL for a field that only steers what the store does.
 * Types, and what each means on the wire and in SQL:
 *   STR     const char *, never NULL ("" when unknown)
 *   OSTR    const char *, NULL meaning "none" (distinct from "")
 *   TIME    apr_time_t, microseconds
 *   STATUS  int, an HTTP status 0..999
 *   SIZE    apr_off_t, >= 0
 *   FLAG    int, 0 or 1
 *   ID      apr_int64_t, a row id (0: none)
 *   KIND    polycom_file_kind, what the request asked for
 */
#define POLYCOM_CHECKIN_FIELDS(X)                                          \
    X(TIME,   time,             "time_us")                                 \
    X(STR,    mac,              "mac")                                     \
    X(STR,    ip,               "ip")                                      \
    X(STR,    method,           "method")                                  \
    X(STR,    file,             "file")                                    \
    /* the file's kind, as the request parsed it (never parsed again) */   \
    X(KIND,   kind,             NULL)                                      \
    X(STATUS, status,           "status")                                  \
    X(SIZE,   bytes,            "bytes")                                   \
    X(STR,    etag,             "etag")                                    \
    X(STR,    family,           "family")                                  \
    X(STR,    model,            "model")                                   \
    X(STR,    firmware,         "firmware")                                \
    X(STR,    stage,            "stage")                                   \
    X(STR,    user_agent,       "user_agent")                              \
    /* the phones table does not know this MAC: record it as discovered */ \
    X(FLAG,   unknown_phone,    NULL)                                      \
    /* this request delivered that reprovisioning target's stanza */       \
    X(ID,     delivered_target, NULL)                                      \
    /* "host[:port]/path" the request reached, to confirm a move */        \
    X(OSTR,   server_address,   NULL)                                      \
    /* a settings file rendered anew: its flat parameters (polycom_flat.h), \
     * kept once per ETag as what phones were served */                    \
    X(OSTR,   snapshot,         NULL)

#define POLYCOM_CHECKIN_CTYPE_STR    const char *
#define POLYCOM_CHECKIN_CTYPE_OSTR   const char *
#define POLYCOM_CHECKIN_CTYPE_TIME   apr_time_t
#define POLYCOM_CHECKIN_CTYPE_STATUS int
#define POLYCOM_CHECKIN_CTYPE_SIZE   apr_off_t
#define POLYCOM_CHECKIN_CTYPE_FLAG   int
#define POLYCOM_CHECKIN_CTYPE_ID     apr_int64_t
#define POLYCOM_CHECKIN_CTYPE_KIND   polycom_file_kind

/** One provisioning request, as recorded. */
typedef struct {
#define POLYCOM_CHECKIN_MEMBER(type, field, column) \
    POLYCOM_CHECKIN_CTYPE_##type field;
    POLYCOM_CHECKIN_FIELDS(POLYCOM_CHECKIN_MEMBER)
#undef POLYCOM_CHECKIN_MEMBER
} polycom_checkin;

/** *dst = *src with every string copied into @a pool (a queue's own pool
 *  outlives the request the strings came from). */
void polycom_checkin_copy(apr_pool_t *pool, polycom_checkin *dst,
                          const polycom_checkin *src);

/** "INSERT INTO checkins (<columns>) VALUES (<placeholders>)" for every
 *  field that has a column; numbers take @a number_placeholder (the
 *  store's cast), strings "%s". */
const char *polycom_checkin_insert_sql(apr_pool_t *pool,
                                       const char *number_placeholder);

/** The values of that INSERT for @a c, in its column order, as strings
 *  in @a pool, NULL-terminated (apr_dbd_pvquery's arguments). */
const char **polycom_checkin_insert_values(apr_pool_t *pool,
                                           const polycom_checkin *c);

/** How many columns that INSERT has. */
int polycom_checkin_columns(void);

/** Non-zero when the file asked for names the MAC the check-in is
 *  recorded under. A default file's check-in (000000000000*) takes its MAC
 *  from the User-Agent's (SN:...), which anyone may write, and which the
 *  authorisation never checked: it is kept in the history, and never
 *  speaks for that phone (its last_seen, its move). */
int polycom_checkin_names_its_mac(const polycom_checkin *c);

/** Non-zero for a good GET of the phone's own settings file (not the
 *  default one's): what last_seen keeps as the phone's last fetch. */
int polycom_checkin_is_settings_fetch(const polycom_checkin *c);

#endif /* POLYCOM_CHECKIN_H */
