/**
 * The service around the API: OpenAPI covering every route, health probes, draining on shutdown.
 */
import { ServiceState } from '../../src/app/lifecycle/service-state';
import { json, LOGIN_RULE, loginEvents, startService, yaml, type RunningService } from './harness';

describe('GET /docs', () => {
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
});
