/**
 * The agent's start banner: one environment line per endpoint, what an app beside it sets.
 * @module
 */

/** The environment lines of the start banner, for an agent at `url` serving `routes`. */
export function bannerLines(url: string, routeNames: readonly string[]): string[] {
  return [
    `ALIBABA_CLOUD_CREDENTIALS_URI=${url}/aliyun/credentials`,
    `CLOUD_TOKEN_BROKER_TENCENT_CREDENTIALS_URL=${url}/tencent/credentials`,
    ...routeNames
      .filter((name) => name !== 'aliyun' && name !== 'tencent')
      .map((name) => `CLOUD_TOKEN_BROKER_ROUTE_${name.toUpperCase().replaceAll('-', '_')}_URL=${url}/routes/${name}`),
  ];
}
