/**
 * What a token item in the table holds, by attribute name (docs/contracts.md, "Shared state"):
 * the sealed data and its data key, the times, the TTL and the vendor's request id, and never a
 * credential field in the clear. The tests that read items back check against this one list.
 * @module
 */

/** A sealed token item's attributes, sorted. */
export const TOKEN_ITEM_ATTRIBUTES = ['dataKey', 'expiresAt', 'fetchedAt', 'pk', 'refreshAt', 'sealedData', 'ttl', 'vendorRequestId'];
