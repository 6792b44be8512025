/**
 * cos-nodejs-sdk-v5's `getAuthorization` callback on Tencent Cloud STS credentials refreshed by
 * `refreshAfter` (client/tencent.ts). COS keeps what the callback gave while its `ExpiredTime` is
 * more than 60 s away and asks again after that; the callback reports `ExpiredTime` as 60 s past
 * `refreshAfter` (never past the real expiry), so COS comes back at `refreshAfter` and signs with
 * credentials that are live.
 * @module
 */
import type { RefreshingCredentials } from './refreshing-credentials.js';
import type { TencentStsData } from './tencent.js';

/** COS keeps credentials while their ExpiredTime is more than this far away (cos-nodejs-sdk-v5, sdk/base.js). */
const COS_REUSE_MARGIN_S = 60;

/** The temporary credentials COS's `getAuthorization` callback takes (cos-nodejs-sdk-v5's `Credentials`). */
export interface CosCredentials {
  TmpSecretId: string;
  TmpSecretKey: string;
  SecurityToken: string;
  /** Epoch seconds: when the credentials were handed over (COS signs from it). */
  StartTime: number;
  /** Epoch seconds: COS keeps the credentials until 60 s before it. */
  ExpiredTime: number;
}

/** Options of cosGetAuthorization. */
export interface CosAuthorizationOptions {
  /**
   * Told why no credentials could be given. COS's callback has no error argument: COS then fails
   * the request with its own "missing TmpSecretId"; this is where the cause (a BrokerCallError,
   * say) goes, e.g. to the app's log.
   */
  onError?: (error: unknown) => void;
  /** The clock (default `Date.now`). */
  now?: () => number;
}

/** `new COS({ getAuthorization: cosGetAuthorization(credentials) })`. */
export function cosGetAuthorization(
  credentials: RefreshingCredentials<TencentStsData>,
  options: CosAuthorizationOptions = {},
): (options: unknown, callback: (credentials: CosCredentials) => void) => void {
  const now = options.now ?? (() => Date.now());
  return (_options, callback) => {
    credentials.get().then(
      (held) => {
        const askAgain = Math.floor(Math.max(held.refreshAfter, now()) / 1000) + COS_REUSE_MARGIN_S;
        callback({
          TmpSecretId: held.data.tmpSecretId,
          TmpSecretKey: held.data.tmpSecretKey,
          SecurityToken: held.data.token,
          StartTime: Math.floor(now() / 1000),
          ExpiredTime: Math.min(askAgain, Math.floor(held.expiresAt / 1000)),
        });
      },
      (error: unknown) => {
        options.onError?.(error);
        // Empty credentials: COS refuses them at once and fails the request (no call is signed).
        callback({ TmpSecretId: '', TmpSecretKey: '', SecurityToken: '', StartTime: 0, ExpiredTime: 0 });
      },
    );
  };
}
