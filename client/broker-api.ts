/**
 * The broker's HTTP API as TypeScript types, derived from the types openapi-typescript generates
 * from openapi.json (`npm run client:types` writes client/generated/broker-api.d.ts; typecheck and
 * build run it first). Nothing here is written by hand but the three friendly names.
 * @module
 */
import type { paths } from './generated/broker-api.js';

/** The broker's POST routes, e.g. `/v1/aliyun/sts/assume-role`. */
export type RoutePath = { [P in keyof paths]: paths[P] extends { post: object } ? P : never }[keyof paths];

type PostOf<P extends RoutePath> = paths[P]['post'];

/** The JSON body route `P` takes (every field the route marks optional stays optional). */
export type RequestBody<P extends RoutePath> =
  NonNullable<PostOf<P>['requestBody']> extends { content: { 'application/json': infer Body } } ? Body : Record<string, never>;

/** The 200 answer of route `P`: `operation`, `requestId`, `expiresAt`, `refreshAfter` and the route's `data`. */
export type Answer<P extends RoutePath> = PostOf<P>['responses'][200]['content']['application/json'];
