import { RedisUrlError, ioredisOptions, parseRedisUrl, reconnectDelay, redactRedisUrl } from './redis-connection';

describe('parseRedisUrl', () => {
  it.each([
    ['redis://localhost', { mode: 'single', endpoint: { host: 'localhost', port: 6379 }, db: 0, tls: false }],
    ['redis://10.0.0.5:6380/3', { mode: 'single', endpoint: { host: '10.0.0.5', port: 6380 }, db: 3, tls: false }],
    ['rediss://:s3cr%40t@cache.example:6390', { mode: 'single', endpoint: { host: 'cache.example', port: 6390 }, db: 0, tls: true, password: 's3cr@t' }],
    ['redis://app:pw@[::1]:7000/', { mode: 'single', endpoint: { host: '::1', port: 7000 }, db: 0, tls: false, username: 'app', password: 'pw' }],
    [
      'redis+sentinel://s1:26379,s2,[fe80::1]:26380/mymaster/2?sentinelPassword=sp',
      {
        mode: 'sentinel',
        sentinels: [
          { host: 's1', port: 26379 },
          { host: 's2', port: 26379 },
          { host: 'fe80::1', port: 26380 },
        ],
        name: 'mymaster',
        db: 2,
        tls: false,
        sentinelPassword: 'sp',
      },
    ],
    ['sentinel://:pw@s1/main', { mode: 'sentinel', sentinels: [{ host: 's1', port: 26379 }], name: 'main', db: 0, tls: false, password: 'pw' }],
    ['rediss+sentinel://s1/m', { mode: 'sentinel', sentinels: [{ host: 's1', port: 26379 }], name: 'm', db: 0, tls: true }],
    [
      'redis+cluster://n1:7000,n2:7001,n3',
      {
        mode: 'cluster',
        nodes: [
          { host: 'n1', port: 7000 },
          { host: 'n2', port: 7001 },
          { host: 'n3', port: 6379 },
        ],
        tls: false,
      },
    ],
    ['cluster://u:p@n1:7000', { mode: 'cluster', nodes: [{ host: 'n1', port: 7000 }], tls: false, username: 'u', password: 'p' }],
    ['rediss+cluster://n1:7000/', { mode: 'cluster', nodes: [{ host: 'n1', port: 7000 }], tls: true }],
  ])('%s', (url, expected) => {
    expect(parseRedisUrl(url)).toEqual(expected);
  });

  it.each([
    ['http://localhost', /unknown scheme 'http'/],
    ['localhost:6379', /not a Redis URL/],
    ['redis://', /no host/],
    ['redis://a,b', /one host/],
    ['redis://a/x', /bad database/],
    ['redis://a:99999', /bad port/],
    ['redis://a/1/2', /bad path/],
    ['redis+sentinel://s1:26379', /names no master/],
    ['redis+cluster://n1/0', /no path/],
    ['redis://a?tls=true', /unknown parameter 'tls'/],
    ['redis+sentinel://s1/m?foo=1', /allowed: sentinelUsername, sentinelPassword/],
    ['redis://:p%zz@a', /percent-encoding/],
  ])('rejects %s', (url, message) => {
    expect(() => parseRedisUrl(url)).toThrow(RedisUrlError);
    expect(() => parseRedisUrl(url)).toThrow(message);
  });

  it('never puts the password in an error message', () => {
    expect(() => parseRedisUrl('redis://user:hunter2@a:1/zz')).toThrow(/user:\*\*\*@/);
    expect(() => parseRedisUrl('redis://user:hunter2@a:1/zz')).not.toThrow(/hunter2/);
    expect(redactRedisUrl('redis+sentinel://:pw@s1,s2/m')).toBe('redis+sentinel://:***@s1,s2/m');
    expect(redactRedisUrl('redis://h:1')).toBe('redis://h:1');
  });
});

describe('ioredis options', () => {
  it('fail fast: no offline queue, one retry per request, a command timeout, endless reconnects', () => {
    const spec = ioredisOptions(parseRedisUrl('redis://h:1/2'), { commandTimeoutMs: 1234 });
    expect(spec.kind).toBe('redis');
    expect(spec.options).toMatchObject({ host: 'h', port: 1, db: 2, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1234 });
    expect([1, 2, 3, 4, 5, 6, 50, 10_000].map((n) => reconnectDelay(n))).toEqual([100, 200, 400, 800, 1600, 2000, 2000, 2000]);
  });

  it('sentinel: master role, failover detector, credentials for both', () => {
    const spec = ioredisOptions(parseRedisUrl('redis+sentinel://u:p@s1,s2:1/mm/1?sentinelUsername=su&sentinelPassword=sp'));
    expect(spec.options).toMatchObject({
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 1 },
      ],
      name: 'mm',
      role: 'master',
      db: 1,
      username: 'u',
      password: 'p',
      sentinelUsername: 'su',
      sentinelPassword: 'sp',
      failoverDetector: true,
      enableOfflineQueue: false,
    });
  });

  it('cluster: masters only, node options carry auth and TLS, no offline queue', () => {
    const spec = ioredisOptions(parseRedisUrl('rediss+cluster://:pw@n1:7000,n2:7001'));
    if (spec.kind !== 'cluster') throw new Error('expected a cluster');
    expect(spec.nodes).toEqual([
      { host: 'n1', port: 7000 },
      { host: 'n2', port: 7001 },
    ]);
    expect(spec.options).toMatchObject({ scaleReads: 'master', enableOfflineQueue: false });
    expect(spec.options.redisOptions).toMatchObject({ password: 'pw', tls: {}, maxRetriesPerRequest: 1 });
    expect(spec.options.redisOptions).not.toHaveProperty('retryStrategy');
  });
});
