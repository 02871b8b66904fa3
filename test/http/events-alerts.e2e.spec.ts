/**
 * Ingest → alert over real HTTP: the three body forms, rejections that never stop the others, the alert
 * records of GET /alerts (deterministic ids, newest last, bounded), and the live SSE stream.
 */
import { connect } from 'node:net';
import { json, LOGIN_RULE, loginEvents, ndjson, startService, yaml, type RunningService } from './harness';

describe('POST /events and GET /alerts', () => {
  let svc: RunningService;
  beforeEach(async () => {
    svc = await startService({ alertsBufferSize: 5 });
    expect((await svc.json('/rules', yaml(LOGIN_RULE))).status).toBe(201);
  });
  afterEach(async () => {
    await svc.close();
  });

  it('accepts one event, an array, and JSON lines', async () => {
    const one = await svc.json('/events', json({ type: 'login_failed', user: 'a', ip: '1', timestamp: 1 }));
    expect(one.status).toBe(202);
    expect(one.body).toEqual({ accepted: 1, rejected: [] });
    const many = await svc.json('/events', json(loginEvents('b', 10)));
    expect(many.body).toEqual({ accepted: 2, rejected: [] });
    const lines = await svc.json('/events', ndjson(loginEvents('c', 20)));
    expect(lines.status).toBe(202);
    expect(lines.body).toEqual({ accepted: 2, rejected: [] });
  });

  it('rejects bad events with their index and reason, and processes the others', async () => {
    const r = await svc.json(
      '/events',
      json([
        { type: 'login_failed', user: 'u', ip: '1', timestamp: 1000 },
        42,
        { user: 'u', timestamp: 1500 },
        { type: 'login_succeeded', user: 'u', ip: '2' },
        { type: 'login_succeeded', user: 'u', ip: '2', timestamp: 'yesterday' },
        { type: 'login_succeeded', user: 'u', ip: '2', timestamp: '1970-01-01T00:00:02Z' },
      ]),
    );
    expect(r.status).toBe(202);
    expect(r.body).toEqual({
      accepted: 2,
      rejected: [
        { index: 1, reason: 'not_an_object' },
        { index: 2, reason: 'missing_type' },
        { index: 3, reason: 'missing_time' },
        { index: 4, reason: 'missing_time' },
      ],
    });
    const alerts = (await svc.json('/alerts')).body;
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ rule: 'failed-then-success', key: 'u', time: 2000 });

    const lines = await svc.json(
      '/events',
      ndjson(['{"type":"login_failed","user":"v","ip":"1","timestamp":3000}', '{not json', '', '[1]', '{"type":"login_succeeded","user":"v","ip":"3","timestamp":3001}']),
    );
    // Blank lines are skipped: the index counts events (non-blank lines).
    expect(lines.body).toEqual({
      accepted: 2,
      rejected: [
        { index: 1, reason: 'invalid_json' },
        { index: 2, reason: 'not_an_object' },
      ],
    });
  });

  it('an event nested too deep is rejected as too_deep and a later event still completes the match (it was a 500 and a lost match)', async () => {
    // Built as text: serializing 5,000 levels overflows the stack (which is the point).
    const deep = `{"type":"login_failed","user":"d","ip":"1","timestamp":5000,"x":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const first = await svc.json('/events', json(`[{"type":"login_failed","user":"d","ip":"1","timestamp":5000},${deep}]`));
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ accepted: 1, rejected: [{ index: 1, reason: 'too_deep' }] });
    const second = await svc.json('/events', json({ type: 'login_succeeded', user: 'd', ip: '2', timestamp: 6000 }));
    expect(second.status).toBe(202);
    expect((await svc.json('/alerts')).body).toEqual([expect.objectContaining({ rule: 'failed-then-success', key: 'd', time: 6000 })]);
  });

  it('a body that is not valid UTF-8 is 400 and nothing in it is processed (it was decoded with U+FFFD)', async () => {
    const bytes = Buffer.concat([Buffer.from('{"type":"login_failed","user":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('","ip":"1","timestamp":1}')]);
    const r = await svc.json('/events', { method: 'POST', headers: { 'content-type': 'application/json' }, body: bytes });
    expect(r.status).toBe(400);
    expect(r.body.message).toBe('the events body is not valid UTF-8');
    const rule = await svc.json('/rules/validate', { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: Buffer.from([0x69, 0x64, 0x3a, 0x20, 0xc3]) });
    expect(rule.status).toBe(400);
  });

  it('in JSON lines, a line that is not valid UTF-8 is rejected as invalid_json and the other lines count', async () => {
    const line = (user: string, t: number) => Buffer.from(JSON.stringify({ type: 'login_failed', user, ip: '1', timestamp: t }) + '\n');
    const bad = Buffer.concat([Buffer.from('{"type":"login_failed","user":"'), Buffer.from([0xff]), Buffer.from('","ip":"1","timestamp":2}\n')]);
    const body = Buffer.concat([line('ü1', 1), bad, line('ü2', 3)]);
    const r = await svc.json('/events', { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ accepted: 2, rejected: [{ index: 1, reason: 'invalid_json' }] });
  });

  it('a body that is not JSON is 400; other content types are 415', async () => {
    const bad = await svc.json('/events', json('{"type": '));
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/not valid JSON/);
    const form = await svc.json('/events', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'a,b' });
    expect(form.status).toBe(415);
    const empty = await svc.json('/events', json(''));
    expect(empty.status).toBe(400);
  });

  it('a bare +json Content-Type is 415; a structured type/subtype+json is JSON', async () => {
    const bare = await svc.json('/events', { method: 'POST', headers: { 'content-type': '+json' }, body: JSON.stringify(loginEvents('j', 1)) });
    expect(bare.status).toBe(415);
    expect(bare.body).toMatchObject({ error: 'Unsupported Media Type', message: "unsupported Content-Type '+json': send one of application/json, application/x-ndjson" });
    const noType = await svc.json('/events', { method: 'POST', headers: { 'content-type': '/x+json' }, body: JSON.stringify(loginEvents('j', 1)) });
    expect(noType.status).toBe(415);
    const structured = await svc.json('/events', { method: 'POST', headers: { 'content-type': 'application/vnd.acme.login+json' }, body: JSON.stringify(loginEvents('j', 1)) });
    expect(structured.body).toEqual({ accepted: 2, rejected: [] });
    const rule = await svc.json('/rules/validate', { method: 'POST', headers: { 'content-type': '+json' }, body: JSON.stringify({ id: 'x', pattern: 'every a=A' }) });
    expect(rule.status).toBe(415);
    const rollback = await svc.json('/rules/failed-then-success/rollback', { method: 'POST', headers: { 'content-type': '+json' }, body: '{"version":1}' });
    expect(rollback.status).toBe(415);
  });

  it('a query parameter given twice is 400 saying it was given twice', async () => {
    const limit = await svc.json('/alerts?limit=1&limit=2');
    expect(limit.status).toBe(400);
    expect(limit.body).toMatchObject({ error: 'Bad Request', message: 'limit was given 2 times: give it once' });
    expect((await svc.json('/alerts?rule=a&rule=b')).body.message).toBe('rule was given 2 times: give it once');
    expect((await svc.json('/events?topic=a&topic=b', json(loginEvents('t', 1)))).body.message).toBe('topic was given 2 times: give it once');
    const stream = await svc.json('/alerts/stream?rule=a&rule=b');
    expect(stream.status).toBe(400);
    expect(stream.body.message).toBe('rule was given 2 times: give it once');
  });

  it('refuses ?topic= in embedded mode, where every enabled rule reads every event, and processes nothing', async () => {
    const r = await svc.json('/events?topic=auth', json(loginEvents('t', 1)));
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/runs embedded \(KAFKA_BROKERS unset\)/);
    expect((await svc.json('/alerts')).body).toEqual([]);
    const repeated = await svc.json('/events?topic=a&topic=b', json(loginEvents('t', 1)));
    expect(repeated.status).toBe(400);
  });

  it('alerts are the replay record plus id, ruleVersion, severity and labels, newest last', async () => {
    await svc.json('/events', json([...loginEvents('u1', 1000), ...loginEvents('u2', 5000)]));
    const r = await svc.json('/alerts');
    expect(r.status).toBe(200);
    expect(r.body).toHaveLength(2);
    const [first, second] = r.body;
    expect(Object.keys(first)).toEqual(['id', 'rule', 'key', 'time', 'events', 'fields', 'ruleVersion', 'severity', 'labels']);
    expect(first).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{32}$/),
      rule: 'failed-then-success',
      key: 'u1',
      time: 2000,
      events: {
        f: { type: 'login_failed', user: 'u1', ip: '10.0.0.1', timestamp: 1000 },
        s: { type: 'login_succeeded', user: 'u1', ip: '10.0.0.2', timestamp: 2000 },
      },
      fields: { user: 'u1', ip: '10.0.0.1' },
      ruleVersion: 1,
      severity: 'critical',
      labels: { team: 'security' },
    });
    expect(second.key).toBe('u2');
    expect(second.id).not.toBe(first.id);

    expect((await svc.json('/alerts?limit=1')).body.map((a: { key: string }) => a.key)).toEqual(['u2']);
    expect((await svc.json('/alerts?rule=other')).body).toEqual([]);
    const zero = await svc.json('/alerts?limit=zero');
    expect(zero.status).toBe(400);
    expect(zero.body.message).toMatch(/^limit must be a positive integer \(values over \d+ are capped\), found 'zero'$/);
  });

  it('the ring buffer keeps the most recent ALERTS_BUFFER_SIZE alerts', async () => {
    const events = [];
    for (let i = 0; i < 8; i++) events.push(...loginEvents(`user${i}`, i * 10_000));
    await svc.json('/events', json(events));
    const r = await svc.json('/alerts?limit=100');
    expect(r.body.map((a: { key: string }) => a.key)).toEqual(['user3', 'user4', 'user5', 'user6', 'user7']);
  });
});

describe('deterministic alert ids', () => {
  it('the same events through the same rule give the same ids in another service instance', async () => {
    const ids: string[][] = [];
    for (let run = 0; run < 2; run++) {
      const svc = await startService();
      try {
        await svc.json('/rules', yaml(LOGIN_RULE));
        // Key order inside events does not matter: the position is the hash of the canonical JSON.
        const events = run === 0 ? loginEvents('u1', 1000) : loginEvents('u1', 1000).map((e) => Object.fromEntries(Object.entries(e).reverse()));
        await svc.json('/events', json(events));
        ids.push((await svc.json('/alerts')).body.map((a: { id: string }) => a.id));
      } finally {
        await svc.close();
      }
    }
    expect(ids[0]).toHaveLength(1);
    expect(ids[1]).toEqual(ids[0]);
  });

  it('matches with the same events (or none) get different ids when a timer or an unbound event completed them, and the same ids again in another instance', async () => {
    // Both rules repeat with the same bound events: every second with none, and at every B with the same A.
    const rules = ['id: ticks\npattern: every timer:interval(1 sec)\n', 'id: each-b\npattern: a=A -> every B\n'];
    const events = [
      { type: 'A', timestamp: 1_000_000 },
      { type: 'B', timestamp: 1_000_500 },
      { type: 'B', timestamp: 1_001_500 },
      { type: 'C', timestamp: 1_003_200 },
    ];
    const runs: Array<Array<{ id: string; rule: string; time: number }>> = [];
    for (let run = 0; run < 2; run++) {
      const svc = await startService();
      try {
        for (const rule of rules) expect((await svc.json('/rules', yaml(rule))).status).toBe(201);
        await svc.json('/events', json(events));
        runs.push((await svc.json('/alerts')).body.map((a: { id: string; rule: string; time: number }) => ({ id: a.id, rule: a.rule, time: a.time })));
      } finally {
        await svc.close();
      }
    }
    expect(runs[0].map((a) => `${a.rule}@${a.time}`)).toEqual(['each-b@1000500', 'ticks@1001000', 'each-b@1001500', 'ticks@1002000', 'ticks@1003000']);
    expect(new Set(runs[0].map((a) => a.id)).size).toBe(5);
    expect(runs[1]).toEqual(runs[0]);
  });

  it('matches alike in events and time still get different ids: two unbound events in one millisecond, one event completing two instances', async () => {
    const rules = ['id: each-b\npattern: a=A -> every B\n', 'id: after-a\npattern: every A -> b=B\n'];
    // Two Bs at the same millisecond complete each-b twice with the same a; the B after two As completes two
    // instances of after-a, both binding only that B.
    const events = [
      { type: 'A', n: 1, timestamp: 1_000_000 },
      { type: 'A', n: 2, timestamp: 1_000_100 },
      { type: 'B', n: 1, timestamp: 1_000_500 },
      { type: 'B', n: 2, timestamp: 1_000_500 },
    ];
    const runs: string[][] = [];
    for (let run = 0; run < 2; run++) {
      const svc = await startService();
      try {
        for (const rule of rules) expect((await svc.json('/rules', yaml(rule))).status).toBe(201);
        await svc.json('/events', json(events));
        runs.push((await svc.json('/alerts')).body.map((a: { id: string; rule: string }) => `${a.rule}:${a.id}`));
      } finally {
        await svc.close();
      }
    }
    expect(runs[0].map((a) => a.split(':')[0]).sort()).toEqual(['after-a', 'after-a', 'each-b', 'each-b']);
    expect(new Set(runs[0]).size).toBe(4);
    expect(runs[1]).toEqual(runs[0]);
  });
});

describe('a jump of event time', () => {
  it('an event from 1970 then one from today fires a heartbeat rule at most TIMER_CATCH_UP_LIMIT times, counted, and the service goes on', async () => {
    // 29.6 million one-minute firings are due between the two events: unbounded, that ran the heap out.
    const svc = await startService();
    try {
      expect((await svc.json('/rules', yaml('id: heartbeat-missing\npattern: every (timer:interval(1 min) and not heartbeat)\n'))).status).toBe(201);
      expect((await svc.json('/events', json([{ type: 'heartbeat', timestamp: 0 }]))).status).toBe(202);
      expect((await svc.json('/events', json([{ type: 'heartbeat', timestamp: '2026-11-24T00:00:00Z' }]))).body).toEqual({ accepted: 1, rejected: [] });
      const metrics = await (await svc.request('/metrics')).text();
      expect(metrics).toMatch(/^cep_partial_matches_dropped_total\{rule="heartbeat-missing",reason="timer_catch_up_limit"\} [1-9]/m);
      // The rule restarted at the second event's time: a minute later it fires again.
      expect((await svc.json('/events', json([{ type: 'other', timestamp: '2026-11-24T00:01:30Z' }]))).status).toBe(202);
      const last = (await svc.json('/alerts?limit=1')).body[0];
      expect(last.time).toBe(Date.parse('2026-11-24T00:01:00Z'));
    } finally {
      await svc.close();
    }
  }, 60_000);
});

describe('GET /alerts/stream', () => {
  let svc: RunningService;
  beforeEach(async () => {
    svc = await startService();
    await svc.json('/rules', yaml(LOGIN_RULE));
  });
  afterEach(async () => {
    await svc.close();
  });

  /** Reads server-sent events from a response until `count` events with data arrived. */
  async function readEvents(res: Response, count: number, timeoutMs = 5000): Promise<Array<{ id?: string; data: any }>> {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const out: Array<{ id?: string; data: any }> = [];
    let buffer = '';
    const deadline = Date.now() + timeoutMs;
    while (out.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${out.length} of ${count} events arrived`);
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let sep: number;
      while ((sep = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, sep);
        buffer = buffer.slice(sep + 2);
        const fields: Record<string, string> = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':') || !line.includes(':')) continue;
          const i = line.indexOf(':');
          fields[line.slice(0, i)] = line.slice(i + 1).replace(/^ /, '');
        }
        if (fields.data !== undefined) out.push({ id: fields.id, data: JSON.parse(fields.data) });
      }
    }
    await reader.cancel();
    return out;
  }

  it('streams the same records as GET /alerts, live', async () => {
    const controller = new AbortController();
    const res = await svc.request('/alerts/stream', { signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const received = readEvents(res, 2);
    await svc.json('/events', json([...loginEvents('s1', 1000), ...loginEvents('s2', 3000)]));
    const events = await received;
    controller.abort();
    const alerts = (await svc.json('/alerts')).body;
    expect(events.map((e) => e.data)).toEqual(alerts);
    expect(events.map((e) => e.id)).toEqual(alerts.map((a: { id: string }) => a.id));
  });

  it('filters by rule and resumes after Last-Event-ID', async () => {
    await svc.json('/events', json([...loginEvents('r1', 1000), ...loginEvents('r2', 3000), ...loginEvents('r3', 5000)]));
    const alerts = (await svc.json('/alerts')).body as Array<{ id: string; key: string }>;
    const controller = new AbortController();
    const res = await svc.request('/alerts/stream?rule=failed-then-success', {
      signal: controller.signal,
      headers: { 'last-event-id': alerts[0].id },
    });
    const events = await readEvents(res, 2);
    controller.abort();
    expect(events.map((e) => e.data.key)).toEqual(['r2', 'r3']);
  });

  it('HEAD gets the stream\'s head and an ended answer, and the connection answers the next request (it stayed open for ever)', async () => {
    const socket = connect({ port: Number(new URL(svc.url).port), host: '127.0.0.1' });
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.write('HEAD /alerts/stream HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await new Promise<void>((resolve) => socket.on('close', () => resolve()));
    const heads = text.match(/^HTTP\/1\.1 \d{3}/gm);
    expect(heads).toEqual(['HTTP/1.1 200', 'HTTP/1.1 200']);
    expect(text).toMatch(/content-type: text\/event-stream/i);
    expect(text).toContain('"service":"cepheus"');
  }, 10_000);

  it('ends open streams when the service shuts down', async () => {
    const res = await svc.request('/alerts/stream');
    const reader = res.body!.getReader();
    await reader.read(); // the greeting
    const closing = svc.close();
    let done = false;
    while (!done) done = (await reader.read()).done;
    await closing;
    expect(done).toBe(true);
  });
});
