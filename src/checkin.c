/* One check-in, defined once (include/polycom_checkin.h): its copy and
 * its INSERT, generated from POLYCOM_CHECKIN_FIELDS. */

#include <string.h>

#include <apr_strings.h>

#include "polycom_checkin.h"

/* Only strings point elsewhere: the rest is copied with the struct. */
#define CHECKIN_COPY_STR(field) \
    dst->field = src->field ? apr_pstrdup(pool, src->field) : "";
#define CHECKIN_COPY_OSTR(field) \
    dst->field = src->field ? apr_pstrdup(pool, src->field) : NULL;
#define CHECKIN_COPY_TIME(field)
#define CHECKIN_COPY_STATUS(field)
#define CHECKIN_COPY_SIZE(field)
#define CHECKIN_COPY_FLAG(field)
#define CHECKIN_COPY_ID(field)
#define CHECKIN_COPY_KIND(field)

void polycom_checkin_copy(apr_pool_t *pool, polycom_checkin *dst,
                          const polycom_checkin *src)
{
    *dst = *src;
#define CHECKIN_COPY(type, field, column) CHECKIN_COPY_##type(field)
    POLYCOM_CHECKIN_FIELDS(CHECKIN_COPY)
#undef CHECKIN_COPY
}

/* Whether a type is a number in SQL (and takes the store's cast). */
#define CHECKIN_NUMBER_STR    0
#define CHECKIN_NUMBER_OSTR   0
#define CHECKIN_NUMBER_TIME   1
#define CHECKIN_NUMBER_STATUS 1
#define CHECKIN_NUMBER_SIZE   1
#define CHECKIN_NUMBER_FLAG   1
#define CHECKIN_NUMBER_ID     1
#define CHECKIN_NUMBER_KIND   1

typedef struct {
    const char *column;
    int number;
} checkin_column;

static const checkin_column checkin_fields[] = {
#define CHECKIN_FIELD(type, field, column) { column, CHECKIN_NUMBER_##type },
    POLYCOM_CHECKIN_FIELDS(CHECKIN_FIELD)
#undef CHECKIN_FIELD
};

#define CHECKIN_FIELD_COUNT \
    (sizeof(checkin_fields) / sizeof(checkin_fields[0]))

int polycom_checkin_columns(void)
{
    apr_size_t i;
    int n = 0;

    for (i = 0; i < CHECKIN_FIELD_COUNT; i++) {
        n += checkin_fields[i].column != NULL;
    }
    return n;
}

const char *polycom_checkin_insert_sql(apr_pool_t *pool,
                                       const char *number_placeholder)
{
    const char *columns = NULL, *values = NULL;
    apr_size_t i;

    for (i = 0; i < CHECKIN_FIELD_COUNT; i++) {
        const checkin_column *f = &checkin_fields[i];
        const char *placeholder = f->number ? number_placeholder : "%s";

        if (!f->column) {
            continue;
        }
        columns = columns ? apr_pstrcat(pool, columns, ", ", f->column, NULL)
                          : f->column;
        values = values ? apr_pstrcat(pool, values, ", ", placeholder, NULL)
                        : placeholder;
    }
    return apr_pstrcat(pool, "INSERT INTO checkins (", columns, ") VALUES (",
                       values, ")", NULL);
}

/* Each field as the text apr_dbd binds. */
#define CHECKIN_TEXT_STR(value)    ((value) ? (value) : "")
#define CHECKIN_TEXT_OSTR(value)   ((value) ? (value) : "")
#define CHECKIN_TEXT_TIME(value) \
    apr_psprintf(pool, "%" APR_TIME_T_FMT, (value))
#define CHECKIN_TEXT_STATUS(value) apr_itoa(pool, (value))
#define CHECKIN_TEXT_SIZE(value)   apr_off_t_toa(pool, (value))
#define CHECKIN_TEXT_FLAG(value)   apr_itoa(pool, (value))
#define CHECKIN_TEXT_ID(value) \
    apr_psprintf(pool, "%" APR_INT64_T_FMT, (value))
#define CHECKIN_TEXT_KIND(value)   apr_itoa(pool, (int)(value))

const char **polycom_checkin_insert_values(apr_pool_t *pool,
                                           const polycom_checkin *c)
{
    const char **values = apr_palloc(pool, sizeof(*values)
                                           * (CHECKIN_FIELD_COUNT + 1));
    int n = 0;

#define CHECKIN_VALUE(type, field, column)                                  \
    if (column) {                                                         \
        values[n++] = CHECKIN_TEXT_##type(c->field);                        \
    }
    POLYCOM_CHECKIN_FIELDS(CHECKIN_VALUE)
#undef CHECKIN_VALUE
    values[n] = NULL;
    return values;
}

int polycom_checkin_names_its_mac(const polycom_checkin *c)
{
    /* The phone's own file names its MAC; the default one's does not
     * (there c->mac comes from the User-Agent). File names are stored
     * in lower case. */
    return strlen(c->mac) == 12 && !strncmp(c->file, c->mac, 12)
           && (c->file[12] == '-' || c->file[12] == '.');
}

int polycom_checkin_is_settings_fetch(const polycom_checkin *c)
{
    return c->kind == POLYCOM_FILE_SETTINGS && !strcmp(c->method, "GET")
           && (c->status == 200 || c->status == 304)
           && polycom_checkin_names_its_mac(c);
}
