/**
 * One set of refreshing credentials per route (client/refreshing-credentials.ts): each asks the
 * broker for its route's fixed body, refreshes ahead at `refreshAfter` with one broker call at
 * a time and backoff while it fails, and serves the last answer until a sixteenth of its
 * lifetime before expiry. Every broker call is logged (route, outcome, times; never `data`).
 * @module
 */
import type { RoutePath } from '../client/broker-api.js';
import { BrokerCallError, type BrokerClient } from '../client/broker-client.js';
import { type RefreshingCredentials, refreshingCredentials } from '../client/refreshing-credentials.js';
import { log } from './log.js';
import type { RouteFlag } from './routes.js';

/**
 * Held credentials stop being served a sixteenth of their lifetime before expiry: half of the
 * eighth the broker leaves after `refreshAfter`, with no floor, so short-lived credentials keep
 * the broker's own margin (a floor above an eighth would outlast `refreshAfter`).
 */
export const expiryMarginMs = (lifetimeMs: number): number => lifetimeMs / 16;

/** A route and its credentials. */
export interface HeldRoute {
  route: RouteFlag;
  credentials: RefreshingCredentials<unknown>;
}

/** Creates the credentials of every route; `start` refreshes them ahead in the background from now on. */
export function holdRoutes(routes: readonly RouteFlag[], client: BrokerClient): Map<string, HeldRoute> {
  return new Map(
    routes.map((route) => {
      const fetch = async () => {
        try {
          // The route comes from the flags, not from openapi.json: the broker checks the body.
          const answer = await client.post(route.path as RoutePath, route.body as never);
          const { data, expiresAt, refreshAfter } = answer as { data: unknown; expiresAt?: string; refreshAfter?: string };
          log('info', 'credentials refreshed', { route: route.name, path: route.path, expiresAt, refreshAfter });
          return { data, expiresAt, refreshAfter };
        } catch (error) {
          const details = error instanceof BrokerCallError ? { status: error.status, code: error.code, requestId: error.requestId } : {};
          log('warn', 'broker call failed', { route: route.name, path: route.path, error: errorText(error), ...details });
          throw error;
        }
      };
      return [route.name, { route, credentials: refreshingCredentials(fetch, { expiryMarginMs }) }];
    }),
  );
}

/** An error's message for a log line or an error answer (the broker client's messages carry no secret). */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
