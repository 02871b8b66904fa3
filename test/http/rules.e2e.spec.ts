/**
 * Rule management over real HTTP: CRUD, versions, enable/disable, rollback, validation errors with line and
 * column, conflicts, and the semantics of changes (metadata keeps state, a new pattern starts afresh).
 */
import { json, LOGIN_RULE, startService, tempDir, yaml, type RunningService } from './harness';

const put = (text: string, type = 'application/yaml'): RequestInit => ({ method: 'PUT', headers: { 'content-type': type }, body: text });
const post = (path: string) => ({ method: 'POST' }) as RequestInit & { path?: string };

describe('rules API', () => {
  let svc: RunningService;
  beforeEach(async () => {
    svc = await startService();
  });
  afterEach(async () => {
    await svc.close();
  });

  it('creates a YAML rule as version 1 and lists it', async () => {
    const created = await svc.json('/rules', yaml(LOGIN_RULE));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: 'failed-then-success',
      version: 1,
      origin: 'api',
      enabled: true,
      status: 'running',
      severity: 'critical',
      partitionBy: 'user',
      format: 'yaml',
      text: LOGIN_RULE,
      labels: { team: 'security' },
      emit: { user: 's.user', ip: 'f.ip' },
    });
    const list = await svc.json('/rules');
    expect(list.status).toBe(200);
    expect(list.body.map((r: { id: string }) => r.id)).toEqual(['failed-then-success']);
    const one = await svc.json('/rules/failed-then-success');
    expect(one.body.version).toBe(1);
  });

  it('creates rules from JSON and from .cep text', async () => {
    const fromJson = await svc.json(
      '/rules',
      json({ id: 'json-rule', severity: 'info', pattern: 'every a=A -> b=B', emit: { x: 'a.x' } }),
    );
    expect(fromJson.status).toBe(201);
    expect(fromJson.body).toMatchObject({ id: 'json-rule', format: 'json', severity: 'info', version: 1 });

    const cep = `@name('cep-rule')\n@severity('warning')\npartition by user\nselect a.user as user\nfrom pattern [every a=A -> b=B(user = a.user)]\n`;
    const fromCep = await svc.json('/rules', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: cep });
    expect(fromCep.status).toBe(201);
    expect(fromCep.body).toMatchObject({ id: 'cep-rule', format: 'cep', partitionBy: 'user', emit: { user: 'a.user' } });
  });

  it('versions: PUT adds a version, enable/disable add versions, rollback restores as a new version', async () => {
    await svc.json('/rules', yaml(LOGIN_RULE));
    const v2 = await svc.json('/rules/failed-then-success', put(LOGIN_RULE.replace('severity: critical', 'severity: warning')));
    expect(v2.status).toBe(200);
    expect(v2.body).toMatchObject({ version: 2, severity: 'warning' });

    const disabled = await svc.json('/rules/failed-then-success/disable', post(''));
    expect(disabled.status).toBe(200);
    expect(disabled.body).toMatchObject({ version: 3, enabled: false, status: 'disabled' });
    // Already disabled: no new version.
    expect((await svc.json('/rules/failed-then-success/disable', post(''))).body.version).toBe(3);
    const enabled = await svc.json('/rules/failed-then-success/enable', post(''));
    expect(enabled.body).toMatchObject({ version: 4, enabled: true, status: 'running' });

    const rolled = await svc.json('/rules/failed-then-success/rollback', json({ version: 1 }));
    expect(rolled.status).toBe(200);
    expect(rolled.body).toMatchObject({ version: 5, severity: 'critical', enabled: true });

    const versions = await svc.json('/rules/failed-then-success/versions');
    expect(versions.status).toBe(200);
    expect(versions.body.map((v: { version: number; change: string }) => [v.version, v.change])).toEqual([
      [5, 'rollback'],
      [4, 'enable'],
      [3, 'disable'],
      [2, 'update'],
      [1, 'create'],
    ]);
    expect(versions.body[0]).toMatchObject({ restoredFrom: 1, text: LOGIN_RULE });

    const missing = await svc.json('/rules/failed-then-success/rollback', json({ version: 42 }));
    expect(missing.status).toBe(404);
    expect(missing.body.message).toMatch(/no version 42/);
    expect((await svc.json('/rules/failed-then-success/rollback', json({ version: 'one' }))).status).toBe(400);
    // An unknown key is refused, as in rule bodies (a typo such as "verison" beside "version" must show).
    const extra = await svc.json('/rules/failed-then-success/rollback', json({ version: 1, extra: true }));
    expect(extra.status).toBe(400);
    expect(extra.body.message).toMatch(/no other key/);
  });

  it('a PUT of the same text adds no version: 200 with the rule as it is (it added one each time)', async () => {
    await svc.json('/rules', yaml(LOGIN_RULE));
    for (let i = 0; i < 3; i++) {
      const same = await svc.json('/rules/failed-then-success', put(LOGIN_RULE));
      expect(same.status).toBe(200);
      expect(same.body).toMatchObject({ version: 1, text: LOGIN_RULE });
    }
    expect((await svc.json('/rules/failed-then-success/versions')).body).toHaveLength(1);
    // The same rule in other words is a new version: the text is what is kept and shown.
    expect((await svc.json('/rules/failed-then-success', put(`${LOGIN_RULE}# a comment\n`))).body.version).toBe(2);
  });

  it('GET versions: newest first, a page at a time (limit, before) with a Link to the next page (it sent every version)', async () => {
    await svc.json('/rules', yaml(LOGIN_RULE));
    for (let n = 2; n <= 25; n++) await svc.json('/rules/failed-then-success', put(`${LOGIN_RULE}# ${n}\n`));
    const first = await svc.json('/rules/failed-then-success/versions');
    // 20 by default.
    expect(first.body.map((v: { version: number }) => v.version)).toEqual(Array.from({ length: 20 }, (_, i) => 25 - i));
    expect(first.headers.get('link')).toBe('</rules/failed-then-success/versions?limit=20&before=6>; rel="next"');
    const next = await svc.json('/rules/failed-then-success/versions?limit=20&before=6');
    expect(next.body.map((v: { version: number }) => v.version)).toEqual([5, 4, 3, 2, 1]);
    expect(next.headers.get('link')).toBeNull();
    expect((await svc.json('/rules/failed-then-success/versions?limit=2&before=10')).body.map((v: { version: number }) => v.version)).toEqual([9, 8]);
    // More than the versions kept is capped.
    expect((await svc.json('/rules/failed-then-success/versions?limit=1000')).body).toHaveLength(25);
    for (const [query, message] of [
      ['limit=0', "limit must be a positive integer (values over 100 are capped), found '0'"],
      ['before=x', "before must be a positive integer, found 'x'"],
      ['limit=1&limit=2', 'limit was given 2 times: give it once'],
    ]) {
      const bad = await svc.json(`/rules/failed-then-success/versions?${query}`);
      expect([query, bad.status, bad.body.message]).toEqual([query, 400, message]);
    }
  });

  it('keeps the newest 100 versions of a rule (it kept every one); a rollback to an older one says it is no longer kept', async () => {
    await svc.json('/rules', yaml(LOGIN_RULE));
    for (let n = 0; n < 50; n++) {
      await svc.json('/rules/failed-then-success/disable', post(''));
      await svc.json('/rules/failed-then-success/enable', post(''));
    }
    const kept = await svc.json('/rules/failed-then-success/versions?limit=100');
    expect(kept.body).toHaveLength(100);
    expect([kept.body[0].version, kept.body[99].version]).toEqual([101, 2]);
    expect(kept.headers.get('link')).toBeNull();
    const gone = await svc.json('/rules/failed-then-success/rollback', json({ version: 1 }));
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual({ statusCode: 404, error: 'Not Found', message: "rule 'failed-then-success' no longer keeps version 1: only its last 100 versions are kept (2..101)" });
    // Version 2 is the first disable: a change, so a new version.
    expect((await svc.json('/rules/failed-then-success/rollback', json({ version: 2 }))).body).toMatchObject({ version: 102, enabled: false });
  });

  it('DELETE removes the rule; version numbers continue when the id is created again', async () => {
    await svc.json('/rules', yaml(LOGIN_RULE));
    await svc.json('/rules/failed-then-success', put(LOGIN_RULE.replace('severity: critical', 'severity: info')));
    const del = await svc.request('/rules/failed-then-success', { method: 'DELETE' });
    expect(del.status).toBe(204);
    expect((await svc.json('/rules/failed-then-success')).status).toBe(404);
    expect((await svc.json('/rules/failed-then-success/versions')).status).toBe(404);
    const again = await svc.json('/rules', yaml(LOGIN_RULE));
    expect(again.status).toBe(201);
    expect(again.body.version).toBe(3);
  });

  it('unknown ids are 404 on every route', async () => {
    expect((await svc.json('/rules/nope')).status).toBe(404);
    expect((await svc.json('/rules/nope/versions')).status).toBe(404);
    expect((await svc.json('/rules/nope', put(LOGIN_RULE.replace('failed-then-success', 'nope')))).status).toBe(404);
    expect((await svc.request('/rules/nope', { method: 'DELETE' })).status).toBe(404);
    expect((await svc.json('/rules/nope/enable', post(''))).status).toBe(404);
    expect((await svc.json('/rules/nope/disable', post(''))).status).toBe(404);
    expect((await svc.json('/rules/nope/rollback', json({ version: 1 }))).status).toBe(404);
  });

  it('a second POST with the same id is 409', async () => {
    expect((await svc.json('/rules', yaml(LOGIN_RULE))).status).toBe(201);
    const again = await svc.json('/rules', yaml(LOGIN_RULE));
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/already exists/);
  });

  it('invalid rules are 422 with line, column and the line with a caret, on every write, and save nothing', async () => {
    const badKey = 'id: bad-key\nseverty: critical\npattern: every a=A -> b=B\n';
    const r1 = await svc.json('/rules', yaml(badKey));
    expect(r1.status).toBe(422);
    expect(r1.body).toEqual([{ line: 2, column: 1, message: "unknown key 'severty'; did you mean 'severity'?", excerpt: 'severty: critical\n^^^^^^^' }]);

    const badPattern = 'id: bad-pattern\npattern: |\n  every f=login_failed\n    -> s=login_succeeded(user = )\n';
    const r2 = await svc.json('/rules', yaml(badPattern));
    expect(r2.status).toBe(422);
    expect(r2.body).toHaveLength(1);
    expect(r2.body[0]).toMatchObject({ line: 4, column: 33 });
    expect(r2.body[0].message).toMatch(/^unexpected '\)'; expected one of: /);

    const badCep = `@name('bad-cep')\nselect f.user as u from pattern [every f=login_failed -> ]\n`;
    const r3 = await svc.json('/rules', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: badCep });
    expect(r3.status).toBe(422);
    expect(r3.body[0]).toMatchObject({ line: 2, column: 58, excerpt: `select f.user as u from pattern [every f=login_failed -> ]\n${' '.repeat(57)}^` });

    const badJson = await svc.json('/rules', json('{\n  "id": "j",\n  "pattern": "A" ,,\n}'));
    expect(badJson.status).toBe(422);
    expect(badJson.body[0]).toMatchObject({ line: 3 });
    expect(badJson.body[0].message).toMatch(/JSON syntax error/);

    // Node 20's "Unexpected token" message has no position: this was 1:1, without the line at fault.
    const missingValue = await svc.json('/rules/validate', json('{"id":"x",\n "pattern": }'));
    expect(missingValue.status).toBe(422);
    expect(missingValue.body).toEqual([
      {
        line: 2,
        column: 13,
        message: "JSON syntax error: unexpected '}'; expected a value (object, array, string, number, true, false or null)",
        excerpt: ` "pattern": }\n${' '.repeat(12)}^`,
      },
    ]);

    const unknownFn = 'id: unknown-fn\npattern: every a=A(foo(1) > 2)\n';
    const r4 = await svc.json('/rules', yaml(unknownFn));
    expect(r4.status).toBe(422);
    expect(r4.body[0]).toMatchObject({ line: 2, column: 20 });
    expect(r4.body[0].message).toMatch(/unknown function 'foo'/);

    expect((await svc.json('/rules')).body).toEqual([]);

    // PUT and the id check
    await svc.json('/rules', yaml(LOGIN_RULE));
    const badPut = await svc.json('/rules/failed-then-success', put(LOGIN_RULE.replace('every f=', 'every f=(')));
    expect(badPut.status).toBe(422);
    const otherId = await svc.json('/rules/failed-then-success', put(LOGIN_RULE.replace('id: failed-then-success', 'id: other')));
    expect(otherId.status).toBe(422);
    expect(otherId.body).toEqual([
      { line: 1, column: 5, message: "the rule's id 'other' differs from 'failed-then-success' in the path", excerpt: 'id: other\n    ^^^^^' },
    ]);
    expect((await svc.json('/rules/failed-then-success')).body.version).toBe(1);

    // one rule per request
    const two = await svc.json('/rules', yaml(`${LOGIN_RULE.replace('failed-then-success', 'a1')}---\n${LOGIN_RULE.replace('failed-then-success', 'a2')}`));
    expect(two.status).toBe(422);
    expect(two.body[0].message).toMatch(/one rule per request/);
    expect(two.body[0].line).toBe(11);
  });

  it('an empty or blank rule body is 422 with an excerpt too: an empty line and the caret', async () => {
    for (const body of ['', '\n  \n']) {
      const r = await svc.json('/rules/validate', { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
      expect([JSON.stringify(body), r.status, r.body]).toEqual([
        JSON.stringify(body),
        422,
        [{ line: 1, column: 1, message: 'the request body is empty: send one rule', excerpt: '\n^' }],
      ]);
    }
  });

  it('POST /rules/validate: 200 {valid:true} or 422 with the errors; nothing is saved', async () => {
    const ok = await svc.json('/rules/validate', yaml(LOGIN_RULE));
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ valid: true, id: 'failed-then-success' });
    const bad = await svc.json('/rules/validate', yaml('id: v\nseverity: urgent\npattern: every a=A\n'));
    expect(bad.status).toBe(422);
    expect(bad.body[0]).toMatchObject({ line: 2, column: 11 });
    expect((await svc.json('/rules')).body).toEqual([]);
  });

  it('unsupported content types are 415, with the usual error body', async () => {
    const r = await svc.json('/rules', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=b' });
    expect(r.status).toBe(415);
    expect(r.body).toMatchObject({ statusCode: 415, error: 'Unsupported Media Type' });
    expect(r.body.message).toMatch(/application\/yaml/);
  });

  it('a charset other than UTF-8 is 415 with the usual error body on every body route, rollback included', async () => {
    await svc.json('/rules', yaml(LOGIN_RULE));
    const latin1 = { 'content-type': 'application/json; charset=latin1' };
    for (const [path, body] of [
      ['/rules/validate', JSON.stringify({ id: 'x', pattern: 'every a=A' })],
      ['/rules', JSON.stringify({ id: 'x', pattern: 'every a=A' })],
      ['/events', JSON.stringify({ type: 'A', timestamp: 1 })],
      ['/rules/failed-then-success/rollback', JSON.stringify({ version: 1 })],
    ]) {
      const r = await svc.json(path, { method: 'POST', headers: latin1, body });
      expect([path, r.status, r.body]).toEqual([
        path,
        415,
        { statusCode: 415, error: 'Unsupported Media Type', message: "unsupported charset 'latin1': send UTF-8" },
      ]);
    }
    const put = await svc.json('/rules/failed-then-success', { method: 'PUT', headers: { 'content-type': 'application/yaml; charset=iso-8859-1' }, body: LOGIN_RULE });
    expect(put.status).toBe(415);
    expect(put.body.error).toBe('Unsupported Media Type');
  });
});

describe('rules from files and from REST', () => {
  const fileRule = LOGIN_RULE.replace('failed-then-success', 'from-file');
  let svc: RunningService;
  let files: ReturnType<typeof tempDir>;
  beforeEach(async () => {
    files = tempDir({ 'a.yaml': fileRule });
    svc = await startService({ rulesDir: files.dir });
  });
  afterEach(async () => {
    await svc.close();
    files.cleanup();
  });

  it('file rules are listed with their file; REST writes to them are 409', async () => {
    const r = await svc.json('/rules/from-file');
    expect(r.body).toMatchObject({ id: 'from-file', origin: 'file', file: 'a.yaml', version: 1, status: 'running' });
    expect((await svc.json('/rules', yaml(fileRule))).status).toBe(409);
    expect((await svc.json('/rules/from-file', put(fileRule))).status).toBe(409);
    expect((await svc.request('/rules/from-file', { method: 'DELETE' })).status).toBe(409);
    const dis = await svc.json('/rules/from-file/disable', post(''));
    expect(dis.status).toBe(409);
    expect(dis.body.message).toMatch(/rule file a\.yaml/);
    const versions = await svc.json('/rules/from-file/versions');
    expect(versions.body).toEqual([expect.objectContaining({ version: 1, change: 'file', file: 'a.yaml' })]);
  });
});

describe('rule changes and state', () => {
  let svc: RunningService;
  beforeEach(async () => {
    svc = await startService();
  });
  afterEach(async () => {
    await svc.close();
  });

  const send = (events: unknown[]) => svc.json('/events', json(events));
  const alertsOf = async (rule: string) => (await svc.json(`/alerts?rule=${rule}&limit=1000`)).body as Array<{ severity: string; ruleVersion: number }>;

  it('a metadata-only change keeps partial matches; a pattern change starts afresh', async () => {
    await svc.json('/rules', yaml(LOGIN_RULE));
    await send([{ type: 'login_failed', user: 'u1', ip: '1', timestamp: 1000 }]);
    // metadata only: severity and labels
    const meta = await svc.json('/rules/failed-then-success', put(LOGIN_RULE.replace('severity: critical', 'severity: info').replace('team: security', 'team: soc')));
    expect(meta.status).toBe(200);
    await send([{ type: 'login_succeeded', user: 'u1', ip: '2', timestamp: 2000 }]);
    let alerts = await alertsOf('failed-then-success');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: 'info', ruleVersion: 2, labels: { team: 'soc' } });

    // pattern change: the open partial match (u2's failure) is forgotten
    await send([{ type: 'login_failed', user: 'u2', ip: '1', timestamp: 3000 }]);
    const pattern = await svc.json('/rules/failed-then-success', put(LOGIN_RULE.replace('-> s=login_succeeded', '-> s=login_succeeded(ip != f.ip)')));
    expect(pattern.status).toBe(200);
    await send([{ type: 'login_succeeded', user: 'u2', ip: '2', timestamp: 4000 }]);
    alerts = await alertsOf('failed-then-success');
    expect(alerts).toHaveLength(1);
  });

  it('a disabled rule does not match, and starts afresh when enabled again', async () => {
    await svc.json('/rules', yaml(LOGIN_RULE));
    await send([{ type: 'login_failed', user: 'u1', ip: '1', timestamp: 1000 }]);
    await svc.json('/rules/failed-then-success/disable', post(''));
    await send([{ type: 'login_succeeded', user: 'u1', ip: '2', timestamp: 2000 }]);
    await svc.json('/rules/failed-then-success/enable', post(''));
    await send([{ type: 'login_succeeded', user: 'u1', ip: '2', timestamp: 3000 }]);
    expect(await alertsOf('failed-then-success')).toHaveLength(0);
    await send(loginEventsAt('u1', 4000));
    expect(await alertsOf('failed-then-success')).toHaveLength(1);
  });
});

function loginEventsAt(user: string, t: number) {
  return [
    { type: 'login_failed', user, ip: '1', timestamp: t },
    { type: 'login_succeeded', user, ip: '2', timestamp: t + 1 },
  ];
}
