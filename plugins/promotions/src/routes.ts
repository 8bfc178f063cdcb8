import { createRouteRef } from '@backstage/core-plugin-api';

/** @public */
export const rootRouteRef = createRouteRef({ id: 'promotions' });

/**
 * The fleet page, at `/promotions/fleet` in the example portal.
 *
 * @public
 */
export const fleetRouteRef = createRouteRef({ id: 'promotions-fleet' });
