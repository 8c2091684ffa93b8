/**
 * @file polycom_useragent.h
 * @brief Parse the HTTP User-Agent of a Polycom/Poly phone (pure C, APR only).
 *
 * Grammar (REFERENCE.md 4):
 *   FileTransport <Family>-<MODEL_TOKEN>-UA/<version>[ (SN:<12 hex>)]
 *       [ Type/<Stage>]
 * The same "<Family>-<MODEL>-UA/<version>" word also appears after other
 * prefixes (Microbrowser/1.1 ...), so the parser looks for that word.
 */
#ifndef POLYCOM_USERAGENT_H
#define POLYCOM_USERAGENT_H

#include <apr_pools.h>

typedef struct {
    /** Non-zero when the string is a Polycom/Poly agent we understood. */
    int known;
    /** "VVX", "SoundPointIP", "RealPresenceTrio", ...; "unknown" if not
     *  known. */
    const char *family;
    /** Master token: the UA model without underscores ("VVX411"); "" if
     *  none. */
    const char *model;
    /** Firmware version ("5.9.5.0614"); "" if none. */
    const char *firmware;
    /** 12 lower-case hex digits from "(SN:...)", or "" when absent/invalid. */
    const char *serial;
    /** "application", "updater", or "" when the agent does not say. */
    const char *stage;
} polycom_useragent;

/** Parse @a ua (may be NULL). Never fails; results live in @a pool. */
void polycom_useragent_parse(apr_pool_t *pool, const char *ua,
                             polycom_useragent *out);

#endif /* POLYCOM_USERAGENT_H */
