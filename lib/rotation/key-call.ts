/**
 * One signed call to a vendor's AccessKey API, for lib/rotation/vendors/<vendor>.ts: signed and
 * classified by the vendor's own adapter (lib/vendor/<vendor>.ts), sent by lib/vendor/transport.ts,
 * its answer held to a schema, its failure a KeyApiError. One attempt only: the rotation's steps
 * decide what to retry, and a CreateAccessKey sent twice would make two keys.
 *
 * Nothing of a failure is kept but the vendor's code and request id: an answer or a socket
 * error could quote the request, and the request carries a signature (CreateAccessKey's answer
 * a secret).
 * @module
 */
import * as z from 'zod/mini';
import { readConfig } from '../core/config.js';
import type { FailureClass, OperationTarget, VendorAdapter, VendorParams } from '../vendor/api.js';
import { sendRequest } from '../vendor/transport.js';
import { KeyApiError, type KeyApiFailure } from './api.js';

/** How the rotation reads a failure class of the vendor call (lib/vendor/api.ts) when the vendor's code says no more. */
const FROM_CLASS: Record<FailureClass, KeyApiFailure> = {
  throttled: 'throttled',
  transient: 'transient',
  // A signature the vendor refuses: these keys do not work (a key not yet propagated has its own code, see `codes`).
  key: 'denied',
  // Signing again fixes it: the next attempt is a new call.
  clock: 'transient',
  accessDenied: 'denied',
  notFound: 'notFound',
  rejected: 'other',
  bug: 'other',
  malformed: 'other',
};

/** What one key-API call needs. */
export interface KeyCall<Keys, Extras extends object, Answer> {
  /** How errors name the API: "Alibaba Cloud IMS". */
  api: string;
  adapter: VendorAdapter<Keys, Extras>;
  endpoint: string;
  target: OperationTarget<Extras>;
  params: VendorParams;
  keys: Keys;
  /** The vendor's codes that mean more than their class (the 2-key limit, a key not yet propagated). */
  codes: Readonly<Record<string, KeyApiFailure>>;
  /** The answer's shape: a success the schema refuses is a KeyApiError `other` (`MalformedAnswer`). */
  answer: z.ZodMiniType<Answer>;
}

/** Sends one signed key-API call; its answer as the schema reads it, or a KeyApiError. */
export async function keyCall<Keys, Extras extends object, Answer>(call: KeyCall<Keys, Extras, Answer>): Promise<Answer> {
  const { action } = call.target;
  const request = call.adapter.sign({
    endpoint: call.endpoint,
    target: call.target,
    params: call.params,
    keys: call.keys,
    now: new Date(),
  });
  const sent = await sendRequest(request, readConfig().VENDOR_TIMEOUT_MS, undefined);
  if ('failure' in sent) throw new KeyApiError('transient', sent.failure, `${call.api} ${action}: no answer (${sent.failure}).`);
  const outcome = call.adapter.classify(sent.answer.status, sent.answer.headers, sent.answer.text);
  const requestId = outcome.vendorRequestId === undefined ? '' : `, request ${outcome.vendorRequestId}`;
  if (outcome.kind !== 'ok') {
    const failure = call.codes[outcome.vendorCode] ?? FROM_CLASS[outcome.kind];
    throw new KeyApiError(failure, outcome.vendorCode, `${call.api} ${action} refused: ${outcome.vendorCode}${requestId}.`);
  }
  const parsed = z.safeParse(call.answer, outcome.payload);
  // The issues are left out: they could quote the answer, and CreateAccessKey's holds a secret.
  if (!parsed.success)
    throw new KeyApiError('other', 'MalformedAnswer', `${call.api} ${action}: the answer is not as documented${requestId}.`);
  return parsed.data;
}

/** A vendor's time as ISO 8601, or undefined when it is absent or not a time. */
export function isoOrUndefined(value: string | number | null | undefined): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const ms = typeof value === 'number' ? value : Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}
