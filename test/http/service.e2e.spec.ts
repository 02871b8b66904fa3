/**
 * The service around the API: OpenAPI covering every route and its statuses, methods and unknown paths,
 * health probes, draining on shutdown.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ServiceState } from '../../src/app/lifecycle/service-state';
import { json, LOGIN_RULE, loginEvents, ROOT, startService, yaml, type RunningService } from './harness';

/** Every status each route answers (404 and 405 for a wrong path or method aside). */
const STATUSES: Record<string, number[]> = {
  'GET /': [200],
  'POST /events': [202, 400, 401, 404, 409, 413, 415, 503],
  'GET /alerts': [200, 400],
  'GET /alerts/stream': [200, 400, 503],
  'GET /rules': [200],
  'GET /rules/{id}': [200, 404],
  'GET /rules/{id}/versions': [200, 400, 404],
  'POST /rules': [201, 400, 401, 409, 413, 415, 422, 503],
  'PUT /rules/{id}': [200, 400, 401, 404, 409, 413, 415, 422, 503],
  'DELETE /rules/{id}': [204, 401, 404, 409, 503],
  'POST /rules/{id}/enable': [200, 401, 404, 409, 503],
  'POST /rules/{id}/disable': [200, 401, 404, 409, 503],
  'POST /rules/{id}/rollback': [200, 400, 401, 404, 409, 413, 415, 422, 503],
  'POST /rules/validate': [200, 400, 413, 415, 422],
  'GET /health/live': [200],
  'GET /health/ready': [200, 503],
  'GET /metrics': [200],
};

describe('routes: OpenAPI document, statuses, methods', () => {
  let svc: RunningService;
  beforeAll(async () => {
    svc = await startService();
  });
  afterAll(async () => {
    await svc.close();
  });

  it('serves the Swagger UI and an OpenAPI document covering every route', async () => {
    const ui = await svc.request('/docs');
    expect(ui.status).toBe(200);
    expect(await ui.text()).toMatch(/swagger/i);
    const doc = (await svc.json('/docs-json')).body;
    expect(doc.openapi).toMatch(/^3\./);
    // The token is an opaque string (API_TOKEN), not a JWT.
    expect(Object.values(doc.components.securitySchemes as Record<string, unknown>)).toEqual([
      { type: 'http', scheme: 'bearer', bearerFormat: 'opaque token (API_TOKEN)', description: 'API_TOKEN' },
    ]);

    // Every route Express knows (but the docs' own) is in the document, with its method.
    const router = svc.app.getHttpAdapter().getInstance().router as { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> };
    const routes = router.stack
      .filter((l) => l.route && !l.route.path.startsWith('/docs'))
      .flatMap((l) => Object.keys(l.route!.methods).map((m) => `${m.toUpperCase()} ${l.route!.path.replace(/:(\w+)/g, '{$1}')}`));
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(routes.length).toBeGreaterThanOrEqual(17);
    expect(documented.sort()).toEqual([...new Set(routes)].sort());
    expect(documented).toEqual(
      expect.arrayContaining([
        'POST /events',
        'GET /alerts',
        'GET /alerts/stream',
        'GET /rules',
        'GET /rules/{id}',
        'POST /rules',
        'PUT /rules/{id}',
        'DELETE /rules/{id}',
        'POST /rules/{id}/enable',
        'POST /rules/{id}/disable',
        'GET /rules/{id}/versions',
        'POST /rules/{id}/rollback',
        'POST /rules/validate',
        'GET /health/live',
        'GET /health/ready',
        'GET /metrics',
      ]),
    );
  });

  it('the OpenAPI document lists every status each route answers (PUT had no 415, rollback no 400/413/415, the stream no 400/503, writes no 503)', async () => {
    const doc = (await svc.json('/docs-json')).body;
    const documented = Object.fromEntries(
      Object.entries(doc.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>).flatMap(([path, ops]) =>
        Object.entries(ops).map(([method, op]) => [`${method.toUpperCase()} ${path}`, Object.keys(op.responses).map(Number).sort()]),
      ),
    );
    expect(documented).toEqual(STATUSES);
  });

  it("docs/service.md's table of statuses by route says the same", () => {
    const text = readFileSync(join(ROOT, 'docs', 'service.md'), 'utf8');
    const section = text.slice(text.indexOf('### Statuses by route'), text.indexOf('### Events'));
    const rows = [...section.matchAll(/^\| `([A-Z]+ \S+)` \| ([\d, ]+) \|$/gm)].map((m) => [m[1].replace(/:(\w+)/g, '{$1}'), m[2].split(', ').map(Number)]);
    expect(Object.fromEntries(rows)).toEqual(STATUSES);
  });

  it('a known path asked with a method it does not take is 405 with Allow and the usual error body (it was 404)', async () => {
    for (const [method, path, allow] of [
      ['PATCH', '/rules', 'GET, HEAD, POST, OPTIONS'],
      ['PUT', '/rules', 'GET, HEAD, POST, OPTIONS'],
      ['DELETE', '/rules', 'GET, HEAD, POST, OPTIONS'],
      ['GET', '/events', 'POST, OPTIONS'],
      ['PATCH', '/rules/some-rule', 'GET, HEAD, PUT, DELETE, OPTIONS'],
      ['POST', '/rules/some-rule/versions', 'GET, HEAD, OPTIONS'],
      ['GET', '/rules/some-rule/rollback', 'POST, OPTIONS'],
      ['DELETE', '/alerts/stream', 'GET, HEAD, OPTIONS'],
      ['POST', '/health/live', 'GET, HEAD, OPTIONS'],
      ['POST', '/docs-json', 'GET, HEAD, OPTIONS'],
    ]) {
      const r = await svc.json(path, { method });
      expect([method, path, r.status, r.headers.get('allow')]).toEqual([method, path, 405, allow]);
      expect(r.body).toEqual({ statusCode: 405, error: 'Method Not Allowed', message: `${method} is not allowed on ${path}; it takes ${allow}` });
    }
  });

  it('OPTIONS on a known path is 204 with Allow', async () => {
    const r = await svc.request('/rules', { method: 'OPTIONS' });
    expect(r.status).toBe(204);
    expect(r.headers.get('allow')).toBe('GET, HEAD, POST, OPTIONS');
    expect(await r.text()).toBe('');
  });

  it('an unknown path is 404 with the usual error body, whatever the method', async () => {
    for (const method of ['GET', 'POST', 'OPTIONS', 'PATCH']) {
      const r = await svc.json('/nowhere', { method });
      expect([method, r.status, r.headers.get('allow')]).toEqual([method, 404, null]);
      expect(r.body).toEqual({ statusCode: 404, error: 'Not Found', message: `no route ${method} /nowhere` });
    }
    // A route's own 404 is unchanged.
    expect((await svc.json('/rules/nope')).body).toEqual({ statusCode: 404, error: 'Not Found', message: "no rule 'nope'" });
  });
});

describe('health and draining', () => {
  let svc: RunningService;
  beforeEach(async () => {
    svc = await startService();
  });
  afterEach(async () => {
    await svc.close();
  });

  it('live and ready answer 200 once the rules are loaded', async () => {
    const live = await svc.json('/health/live');
    expect(live.status).toBe(200);
    expect(live.body.status).toBe('ok');
    const ready = await svc.json('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ok', info: { rules: { status: 'up' } } });
  });

  it('once shutdown begins: not ready, writes refused with 503, reads still answered', async () => {
    await svc.json('/rules', yaml(LOGIN_RULE));
    svc.app.get(ServiceState).startDraining();
    const ready = await svc.json('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.error.input.message).toBe('shutting down');
    expect((await svc.json('/health/live')).status).toBe(200);
    const write = await svc.json('/events', json(loginEvents('u', 1)));
    expect(write.status).toBe(503);
    expect((await svc.json('/rules', yaml(LOGIN_RULE.replace('failed-then-success', 'x')))).status).toBe(503);
    expect((await svc.json('/rules')).status).toBe(200);
  });

  it('a write in flight when shutdown begins completes', async () => {
    await svc.json('/rules', yaml(LOGIN_RULE));
    // A request whose body is still arriving when close() starts.
    let push!: (chunk: string | null) => void;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        const enc = new TextEncoder();
        push = (chunk) => (chunk === null ? controller.close() : controller.enqueue(enc.encode(chunk)));
      },
    });
    const pending = svc.request('/events', { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body, duplex: 'half' } as RequestInit);
    push(JSON.stringify(loginEvents('late', 1)[0]) + '\n');
    await new Promise((r) => setTimeout(r, 100));
    const closing = svc.close();
    await new Promise((r) => setTimeout(r, 100));
    push(JSON.stringify(loginEvents('late', 1)[1]) + '\n');
    push(null);
    const res = await pending;
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 2, rejected: [] });
    await closing;
    expect(svc.logs.some((l) => l.msg === 'stopped')).toBe(true);
  });

  it('rollback answers what it documents: 413 past 4 KiB, 400 for a body not UTF-8, 503 while shutting down', async () => {
    await svc.json('/rules', yaml(LOGIN_RULE));
    const big = await svc.json('/rules/failed-then-success/rollback', json(`{"version": 1, "pad": "${'x'.repeat(5000)}"}`));
    expect([big.status, big.body.message]).toEqual([413, 'the rollback body is larger than 4 KiB']);
    const latin = await svc.json('/rules/failed-then-success/rollback', { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.from([0x7b, 0xe9, 0x7d]) });
    expect([latin.status, latin.body.message]).toEqual([400, 'the rollback body is not valid UTF-8']);
    svc.app.get(ServiceState).startDraining();
    expect((await svc.json('/rules/failed-then-success/rollback', json({ version: 1 }))).status).toBe(503);
    expect((await svc.json('/alerts/stream')).status).toBe(503);
  });
});
