/**
 * @file polycom_seen.h
 * @brief What last_seen keeps of each phone, gathered from check-ins.
 *
 * last_seen holds, per MAC, the newest check-in that names it and the
 * newest good fetch of its settings file. A map gathers both from any
 * number of check-ins (a batch, or all a check-in writer wrote since its
 * last flush) so that the store upserts each MAC once, in MAC order
 * (every transaction takes last_seen's rows in the same order, so two
 * never wait for each other in a circle). Pure: APR only.
 */
#ifndef POLYCOM_SEEN_H
#define POLYCOM_SEEN_H

#include <apr_pools.h>
#include <apr_time.h>

#include "polycom_checkin.h"

/** One MAC's row of last_seen. */
typedef struct {
    const char *mac;
    apr_time_t time_us;         /**< its newest check-in */
    const char *ip;
    const char *file;
    int status;
    const char *model;
    const char *firmware;
    const char *settings_etag;  /**< its newest settings fetch; "" if none */
    apr_time_t settings_us;     /**< 0 if none */
} polycom_seen_row;

typedef struct polycom_seen_map polycom_seen_map;

/** An empty map; its rows and their strings live in @a pool. */
polycom_seen_map *polycom_seen_map_make(apr_pool_t *pool);

/** Take @a c into the map when it names its MAC (a default file's
 *  check-in never speaks for a phone): newer than the MAC's newest so far,
 *  or as new (the later of two in the same microsecond wins, as the
 *  larger id does in checkins), it becomes its newest; likewise for a
 *  good fetch of its settings file. */
void polycom_seen_note(polycom_seen_map *map, const polycom_checkin *c);

/** How many MACs the map holds. */
int polycom_seen_count(const polycom_seen_map *map);

/** About how many bytes the map took from its pool. */
apr_size_t polycom_seen_bytes(const polycom_seen_map *map);

/** The map's rows in MAC order, in @a pool; *count of them. */
const polycom_seen_row *polycom_seen_rows(const polycom_seen_map *map,
                                          apr_pool_t *pool, int *count);

/** A flush of what a map gathered, written in parts: its rows in MAC
 *  order, taken once when the round starts (notes made meanwhile go to
 *  another map, for the next round), and how many are written. */
typedef struct {
    const polycom_seen_row *rows;
    int count;
    int done;
} polycom_seen_round;

/** Start a round over @a map's rows (copies in @a pool; their strings are
 *  the map's, so the map's pool lives until the round is over). */
void polycom_seen_round_start(polycom_seen_round *round,
                              const polycom_seen_map *map, apr_pool_t *pool);
/** The round's next part: at most @a most rows, *count of them (0 when
 *  the round is over). */
const polycom_seen_row *polycom_seen_round_part(
    const polycom_seen_round *round, int most, int *count);
/** The part just taken was written: the round goes on after it. */
void polycom_seen_round_written(polycom_seen_round *round, int count);
/** Whether every row of the round was written (or it never started). */
int polycom_seen_round_over(const polycom_seen_round *round);

#endif /* POLYCOM_SEEN_H */
