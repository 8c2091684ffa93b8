/* What last_seen keeps of each phone, gathered from check-ins (see
 * polycom_seen.h). */

#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>

#include "polycom_seen.h"

struct polycom_seen_map {
    apr_pool_t *pool;
    apr_hash_t *rows;           /* MAC -> polycom_seen_row */
    apr_size_t bytes;
};

polycom_seen_map *polycom_seen_map_make(apr_pool_t *pool)
{
    polycom_seen_map *map = apr_pcalloc(pool, sizeof(*map));

    map->pool = pool;
    map->rows = apr_hash_make(pool);
    return map;
}

/* A string the map keeps: the one it has when equal (a phone's address,
 * model and firmware rarely change), else a copy. */
static const char *seen_keep(polycom_seen_map *map, const char *have,
                             const char *value)
{
    apr_size_t length;

    if (have && !strcmp(have, value)) {
        return have;
    }
    length = strlen(value) + 1;
    map->bytes += length;
    return apr_pstrmemdup(map->pool, value, length - 1);
}

void polycom_seen_note(polycom_seen_map *map, const polycom_checkin *c)
{
    polycom_seen_row *row;

    if (!polycom_checkin_names_its_mac(c)) {
        return;
    }
    row = apr_hash_get(map->rows, c->mac, 12);
    if (!row) {
        row = apr_pcalloc(map->pool, sizeof(*row));
        row->mac = apr_pstrmemdup(map->pool, c->mac, 12);
        row->time_us = -1;
        row->settings_etag = "";
        map->bytes += sizeof(*row) + 13 + 64;   /* and the hash's entry */
        apr_hash_set(map->rows, row->mac, 12, row);
    }
    if (c->time >= row->time_us) {
        row->time_us = c->time;
        row->ip = seen_keep(map, row->ip, c->ip);
        row->file = seen_keep(map, row->file, c->file);
        row->status = c->status;
        row->model = seen_keep(map, row->model, c->model);
        row->firmware = seen_keep(map, row->firmware, c->firmware);
    }
    if (polycom_checkin_is_settings_fetch(c) && c->time >= row->settings_us) {
        row->settings_us = c->time;
        row->settings_etag = seen_keep(map, row->settings_etag, c->etag);
    }
}

int polycom_seen_count(const polycom_seen_map *map)
{
    return (int)apr_hash_count(map->rows);
}

apr_size_t polycom_seen_bytes(const polycom_seen_map *map)
{
    return map->bytes;
}

static int seen_by_mac(const void *a, const void *b)
{
    return strcmp(((const polycom_seen_row *)a)->mac,
                  ((const polycom_seen_row *)b)->mac);
}

const polycom_seen_row *polycom_seen_rows(const polycom_seen_map *map,
                                          apr_pool_t *pool, int *count)
{
    polycom_seen_row *rows;
    apr_hash_index_t *hi;
    int n = 0;

    *count = polycom_seen_count(map);
    rows = apr_palloc(pool, sizeof(*rows) * (*count ? *count : 1));
    for (hi = apr_hash_first(pool, map->rows); hi; hi = apr_hash_next(hi)) {
        rows[n++] = *(const polycom_seen_row *)apr_hash_this_val(hi);
    }
    qsort(rows, n, sizeof(*rows), seen_by_mac);
    return rows;
}

void polycom_seen_round_start(polycom_seen_round *round,
                              const polycom_seen_map *map, apr_pool_t *pool)
{
    round->rows = polycom_seen_rows(map, pool, &round->count);
    round->done = 0;
}

const polycom_seen_row *polycom_seen_round_part(
    const polycom_seen_round *round, int most, int *count)
{
    int left = round->count - round->done;

    *count = left < most ? left : most;
    return round->rows ? round->rows + round->done : NULL;
}

void polycom_seen_round_written(polycom_seen_round *round, int count)
{
    round->done += count;
}

int polycom_seen_round_over(const polycom_seen_round *round)
{
    return !round->rows || round->done >= round->count;
}
