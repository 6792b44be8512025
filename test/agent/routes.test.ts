import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUTES, parseRouteFlag, routeTable } from '../../agent/routes.js';

describe('--route', () => {
  it('parses name=path and an optional JSON body after the first colon', () => {
    expect(parseRouteFlag('cams=/v1/aliyun/cams/upload-authorization:{"custSpaceId":"a:b"}')).toEqual({
      name: 'cams',
      path: '/v1/aliyun/cams/upload-authorization',
      body: { custSpaceId: 'a:b' },
    });
    expect(parseRouteFlag('bp=/v1/aliyun/bpstudio/token').body).toEqual({});
  });

  it('refuses a bad name, path or body, and a default moved to another path', () => {
    expect(() => parseRouteFlag('/v1/x')).toThrow(/<name>=<broker path>/);
    expect(() => parseRouteFlag('Bad_Name=/v1/x')).toThrow(/route name/);
    expect(() => parseRouteFlag('x=/v2/x')).toThrow(/broker path/);
    expect(() => parseRouteFlag('x=/v1/../admin')).toThrow(/broker path/);
    expect(() => parseRouteFlag('x=/v1/x:{nope')).toThrow(/not JSON/);
    expect(() => parseRouteFlag('x=/v1/x:[1]')).toThrow(/JSON object/);
    expect(() => parseRouteFlag(`x=/v1/x:{"a":"${'y'.repeat(17_000)}"}`)).toThrow(/16 KiB/);
    expect(() => parseRouteFlag('aliyun=/v1/aliyun/cams/upload-authorization')).toThrow(/only its body may be set/);
  });

  it('keeps the two STS defaults first, a --route of their name setting their body, others after', () => {
    expect(routeTable([]).map((r) => r.name)).toEqual(['aliyun', 'tencent']);
    const table = routeTable([
      parseRouteFlag('ufile=/v1/ucloud/ufile/tokens'),
      parseRouteFlag('tencent=/v1/tencent/sts/assume-role:{"durationSeconds":900}'),
    ]);
    expect(table.map((r) => r.name)).toEqual(['aliyun', 'tencent', 'ufile']);
    expect(table[0]).toEqual(DEFAULT_ROUTES[0]);
    expect(table[1]!.body).toEqual({ durationSeconds: 900 });
    expect(() => routeTable([parseRouteFlag('u=/v1/a'), parseRouteFlag('u=/v1/b')])).toThrow(/given twice/);
  });
});
