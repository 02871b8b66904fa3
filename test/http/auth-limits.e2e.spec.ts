/**
 * API_TOKEN on writes (reads stay open), and the documented limits: body sizes and event counts (413),
 * pattern size and nesting (422).
 */
import { json, LOGIN_RULE, loginEvents, ndjson, startService, yaml, type RunningService } from './harness';

const TOKEN = 'e2e-secret-token-0123456789';
const bearer = { authorization: `Bearer ${TOKEN}` };

describe('API_TOKEN', () => {
  let svc: RunningService;
  beforeAll(async () => {
    svc = await startService({ apiToken: TOKEN });
  });
  afterAll(async () => {
    await svc.close();
  });

  it('every write needs the bearer token: 401 without it or with a wrong one', async () => {
    const none = await svc.json('/rules', yaml(LOGIN_RULE));
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(none.body.message).toMatch(/Authorization: Bearer/);
    expect((await svc.json('/rules', yaml(LOGIN_RULE, { authorization: 'Bearer wrong' }))).status).toBe(401);
    expect((await svc.json('/rules', yaml(LOGIN_RULE, { authorization: TOKEN }))).status).toBe(401);
    expect((await svc.json('/events', json(loginEvents('u', 1)))).status).toBe(401);

    const created = await svc.json('/rules', yaml(LOGIN_RULE, bearer));
    expect(created.status).toBe(201);

    for (const [method, path] of [
      ['PUT', '/rules/failed-then-success'],
      ['DELETE', '/rules/failed-then-success'],
      ['POST', '/rules/failed-then-success/disable'],
      ['POST', '/rules/failed-then-success/enable'],
      ['POST', '/rules/failed-then-success/rollback'],
    ]) {
      const r = await svc.request(path, { method, headers: { 'content-type': 'application/yaml' }, body: method === 'DELETE' ? undefined : LOGIN_RULE });
      expect([method, path, r.status]).toEqual([method, path, 401]);
    }
    expect((await svc.json('/events', json(loginEvents('u', 1), bearer))).status).toBe(202);
    expect((await svc.json('/rules/failed-then-success/disable', { method: 'POST', headers: bearer })).status).toBe(200);
  });

  it('reads stay open, and so does /rules/validate (it saves nothing)', async () => {
    for (const path of ['/rules', '/alerts', '/metrics', '/health/ready', '/health/live', '/docs-json', '/']) {
      expect([path, (await svc.request(path)).status]).toEqual([path, 200]);
    }
    expect((await svc.json('/rules/validate', yaml(LOGIN_RULE))).status).toBe(200);
  });

  it('authentication comes before reading the body: a huge unauthenticated body is 401, not 413', async () => {
    const r = await svc.json('/events', json('x'.repeat(3 * 1024 * 1024)));
    expect(r.status).toBe(401);
  });
});

describe('limits', () => {
  let svc: RunningService;
  beforeAll(async () => {
    svc = await startService({ limits: { eventsBodyBytes: 4096, eventsPerRequest: 3, rulesBodyBytes: 64 * 1024 } });
    await svc.json('/rules', yaml(LOGIN_RULE));
  });
  afterAll(async () => {
    await svc.close();
  });

  it('a POST /events body past EVENTS_MAX_BODY_BYTES is 413', async () => {
    const big = [{ type: 'login_failed', user: 'u', ip: 'x'.repeat(5000), timestamp: 1 }];
    const r = await svc.json('/events', json(big));
    expect(r.status).toBe(413);
    expect(r.body.message).toMatch(/larger than 4 KiB/);
    // Chunked (no Content-Length): also 413 once the limit is passed.
    const chunked = await svc.json('/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Blob([JSON.stringify(big)]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    // The service goes on.
    expect((await svc.json('/events', json(loginEvents('v', 1)))).status).toBe(202);
  });

  it('more than EVENTS_MAX_PER_REQUEST events is 413 (array and JSON lines)', async () => {
    const four = [...loginEvents('a', 1), ...loginEvents('b', 2)];
    const r = await svc.json('/events', json(four));
    expect(r.status).toBe(413);
    expect(r.body.message).toMatch(/too many events in one request: 4, at most 3/);
    expect((await svc.json('/events', ndjson(four))).status).toBe(413);
    expect((await svc.json('/events', json(four.slice(0, 3)))).status).toBe(202);
  });

  it('a rule body past RULES_MAX_BODY_BYTES is 413', async () => {
    const r = await svc.json('/rules', yaml(`${LOGIN_RULE}description: ${'d'.repeat(70 * 1024)}\n`));
    expect(r.status).toBe(413);
    expect(r.body.message).toMatch(/64 KiB/);
  });

  it('a pattern past 16 KiB or nested past 64 levels is 422 with its position', async () => {
    const long = `id: long\npattern: every a=A(x > 1${' or x > 1'.repeat(2500)})\n`;
    const r1 = await svc.json('/rules', yaml(long));
    expect(r1.status).toBe(422);
    // The excerpt shows a window of the long line around the column, not the whole line.
    expect(r1.body).toEqual([
      { line: 2, column: 10, message: expect.stringMatching(/pattern is too long: \d+ bytes, at most 16 KiB/), excerpt: expect.stringMatching(/^pattern: every a=A\(x > 1 or .{100,}…\n {9}\^+$/) },
    ]);
    expect((r1.body[0].excerpt as string).length).toBeLessThan(400);

    const deep = `id: deep\npattern: ${'('.repeat(70)}a=A${')'.repeat(70)}\n`;
    const r2 = await svc.json('/rules', yaml(deep));
    expect(r2.status).toBe(422);
    expect(r2.body).toEqual([{ line: 2, column: 74, message: 'nesting is too deep: more than 64 levels', excerpt: `pattern: ${'('.repeat(70)}a=A${')'.repeat(70)}\n${' '.repeat(73)}^` }]);
  });
});
