import { createRouteRef } from '@backstage/core-plugin-api';

/** @public */
export const rootRouteRef = createRouteRef({ id: 'promotions' });

/**
 * The approver inbox, at `/promotions` in the example portal.
 *
 * @public
 */
export const inboxRouteRef = createRouteRef({ id: 'promotions-inbox' });

/**
 * The fleet page, at `/promotions/fleet` in the example portal.
 *
 * @public
 */
export const fleetRouteRef = createRouteRef({ id: 'promotions-fleet' });
