/**
 * @file polycom_private.h
 * @brief What the httpd glue of mod_polycom shares with itself only.
 */
#ifndef POLYCOM_PRIVATE_H
#define POLYCOM_PRIVATE_H

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

/* Our own log tags: the AH namespace belongs to httpd's bundled modules.
 * Each call site has its own number; numbers are never reused. */
#define PCLOGNO(n) "PC" #n ": "

extern module AP_MODULE_DECLARE_DATA polycom_module;

/* AP_DECLARE_MODULE(polycom) in mod_polycom.c also declares
 * APLOG_USE_MODULE(polycom), so "LogLevel polycom:debug" works; a second
 * glue file would add APLOG_USE_MODULE(polycom) here. */

#endif /* POLYCOM_PRIVATE_H */
