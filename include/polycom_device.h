/**
 * @file polycom_device.h
 * @brief The .set flags of device.* parameters (REFERENCE.md 3.3): a phone
 *        applies a device.* value only when the same file carries
 *        device.set="1" and the value's own <name>.set="1" (pure C: APR
 *        only).
 *
 * Lists are of polycom_param (polycom_render.h), one entry per name.
 */
#ifndef POLYCOM_DEVICE_H
#define POLYCOM_DEVICE_H

#include <apr_pools.h>
#include <apr_tables.h>

/** Non-zero for a device.* value: a name that starts with "device." and
 *  is no flag (neither device.set nor any name ending in ".set"). */
int polycom_device_is_value(const char *name);

/** Non-zero for a parameter a reprovisioning stanza sets, or its .set
 *  flag: device.prov.serverName, serverType, user, password and
 *  device.dhcp.bootSrvUseOpt. */
int polycom_device_is_move_param(const char *name);

/** How many entries of @a params are reprovisioning parameters or their
 *  flags (polycom_device_is_move_param). */
int polycom_device_move_params(const apr_array_header_t *params);

/**
 * The list to render for @a params, in their order: each device.* value
 * followed by its <name>.set="1", and device.set="1" once, before the
 * first device.* entry, when the list holds a device.* value. A flag the
 * list already holds (an admin's, "0" to stop applying) is kept as it is,
 * never added twice. A <name>.set without its value in the list, and a
 * device.set in a list with no device.* value, are left out: a flag with
 * nothing to flag would make the phone apply an empty value (a withheld
 * secret's flag, for one).
 */
apr_array_header_t *polycom_device_apply(apr_pool_t *pool,
                                         const apr_array_header_t *params);

/**
 * The parameters of a settings file as served: while a move is under way
 * for the phone (@a moving), the reprovisioning parameters and their
 * flags are left out (the stanza's file, first in CONFIG_FILES, says
 * where the phone goes), then polycom_device_apply().
 */
apr_array_header_t *polycom_device_settings(apr_pool_t *pool,
                                            const apr_array_header_t *params,
                                            int moving);

#endif /* POLYCOM_DEVICE_H */
