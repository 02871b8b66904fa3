/**
 * The Dockerfile and .dockerignore, without a Docker engine:
 *   - lint with dockerfile-utils (every check at error level), and show the linter fails on
 *     broken Dockerfiles;
 *   - the image's shape: multi-stage, production dependencies only, Node.js LTS slim,
 *     non-root, tini as PID 1, exec-form CMD, HEALTHCHECK on /health/live, RULES_DIR;
 *   - a replay against this repository: every COPY is carried out from the build context
 *     (honouring .dockerignore) into a directory per stage, the build stage's
 *     `npm run build` runs on exactly what it copied, production dependencies are the
 *     lockfile's non-dev packages, and the runtime stage's CMD starts the service, which must
 *     answer /health/live, pass the HEALTHCHECK and exit 0 on SIGTERM.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { validate, ValidationSeverity, ValidatorSettings } from 'dockerfile-utils';
import * as YAML from 'yaml';
import {
  CopySpec,
  DockerIgnore,
  Stage,
  contextFiles,
  copies,
  copySpec,
  execForm,
  isCopy,
  linkTree,
  parseDockerfile,
  replayContextCopy,
  stageEnv,
  stageWorkdir,
} from './support/dockerfile';
import { exposedFamilies, metricsIn } from './support/metrics';
import { CHART_DIR, ROOT, removeScratch, scratchDir } from './support/repo';

const DOCKERFILE = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
const IGNORE = new DockerIgnore(fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8'));
const parsed = parseDockerfile(DOCKERFILE);

function stage(name: string): Stage {
  const s = parsed.stages.find((x) => x.name === name);
  if (!s) throw new Error(`Dockerfile has no stage named ${name}`);
  return s;
}
const runtime = () => parsed.stages[parsed.stages.length - 1];
const runs = (s: Stage) => s.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.content);
const last = (s: Stage, keyword: string) => s.instructions.filter((i) => i.keyword === keyword).pop();

const ALL_ERRORS: ValidatorSettings = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR,
};
const lint = (text: string) => validate(text, ALL_ERRORS).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);

afterAll(removeScratch);

describe('Dockerfile: lint (dockerfile-utils)', () => {
  it('has no problems with every check at error level', () => {
    expect(lint(DOCKERFILE)).toEqual([]);
  });

  it.each([
    ['an unknown COPY flag', '--from=build /app/dist', '--form=build /app/dist'],
    ['a HEALTHCHECK interval without unit', '--interval=30s', '--interval=30'],
    ['a relative WORKDIR', 'WORKDIR /app', 'WORKDIR app'],
    ['a second CMD', 'CMD ["node", "dist/main.js"]', 'CMD ["node", "dist/main.js"]\nCMD ["node", "dist/other.js"]'],
    ['JSON in single quotes', 'CMD ["node", "dist/main.js"]', "CMD ['node', 'dist/main.js']"],
  ])('fails on %s', (_what, from, to) => {
    const broken = DOCKERFILE.replace(from, to);
    expect(broken).not.toBe(DOCKERFILE);
    expect(lint(broken).length).toBeGreaterThan(0);
  });
});

describe('Dockerfile: image shape', () => {
  it('is multi-stage: build → prod-deps (npm ci --omit=dev) → runtime', () => {
    expect(parsed.stages.map((s) => s.name)).toEqual(['build', 'prod-deps', 'runtime']);
    expect(runs(stage('build'))).toEqual(expect.arrayContaining([expect.stringMatching(/^npm ci\b/), 'npm run build']));
    expect(runs(stage('prod-deps'))).toEqual([expect.stringMatching(/^npm ci\b.*--omit=dev/)]);
    expect(copies(runtime()).map((c) => c.from ?? 'context')).toEqual(expect.arrayContaining(['prod-deps', 'build']));
  });

  it('runs on a Node.js LTS slim image, as a non-root user, with tini as PID 1 and node in exec form', () => {
    for (const s of parsed.stages) {
      const m = /^node:(\d+)(?:\.\d+)*-(?:[a-z]+-)?slim$/.exec(s.image);
      expect({ stage: s.name, image: s.image, lts: !!m && Number(m[1]) % 2 === 0 && Number(m[1]) >= 22 }).toEqual({ stage: s.name, image: s.image, lts: true });
    }
    const user = last(runtime(), 'USER')?.content ?? 'root';
    expect(user.split(':')[0]).not.toMatch(/^(root|0)$/);
    expect(execForm(last(runtime(), 'ENTRYPOINT')?.content ?? '')).toEqual(['/usr/bin/tini', '--']);
    expect(runs(runtime()).join('\n')).toMatch(/apt-get install -y --no-install-recommends tini/);
    const cmd = execForm(last(runtime(), 'CMD')?.content ?? '');
    expect(cmd).toEqual(['node', expect.stringMatching(/^dist\/main\.js$/)]);
  });

  it('has a HEALTHCHECK on /health/live and copies the rules to RULES_DIR', () => {
    const hc = last(runtime(), 'HEALTHCHECK');
    expect(hc?.content).toMatch(/^CMD /);
    const probe = execForm(hc!.content.replace(/^CMD\s+/, ''));
    expect(probe?.[0]).toBe('node');
    expect(probe?.join(' ')).toContain('/health/live');
    const env = stageEnv(runtime());
    expect(env).toEqual(expect.objectContaining({ NODE_ENV: 'production', PORT: '8080', RULES_DIR: expect.stringMatching(/^\//) }));
    const rulesCopy = copies(runtime()).find((c) => path.posix.resolve(stageWorkdir(runtime()), c.dest) === env.RULES_DIR);
    expect(rulesCopy?.sources).toEqual(['rules/']);
  });

  it('package-lock.json matches package.json (npm ci refuses otherwise)', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown>> };
    const root = lock.packages[''];
    expect({ dependencies: root.dependencies ?? {}, devDependencies: root.devDependencies ?? {} }).toEqual({
      dependencies: pkg.dependencies ?? {},
      devDependencies: pkg.devDependencies ?? {},
    });
  });

  it('copies only files that exist in the build context and survive .dockerignore', () => {
    const missing: string[] = [];
    for (const s of parsed.stages) {
      for (const c of copies(s).filter((x) => !x.from)) {
        for (const src of c.sources) if (contextFiles(ROOT, src, IGNORE).length === 0) missing.push(`${s.name}: COPY ${src} (line ${c.line})`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('.dockerignore keeps local builds, dependencies, secrets and VCS data out of the context', () => {
    const excluded = ['node_modules/yaml/package.json', 'dist/main.js', '.git/HEAD', '.cache/x', '.env', 'helm/cepheus/values.yaml', 'test/deploy/dockerfile.spec.ts', 'coverage/lcov.info', 'src/core/language/grammar.generated.ts', 'src/core/engine/engine.spec.ts'];
    const kept = ['package.json', 'package-lock.json', 'tsconfig.build.json', 'src/main.ts', 'src/core/engine/engine.ts', 'scripts/build-grammar.js', 'bin/cepheus', 'rules/x.yaml'];
    expect(excluded.filter((f) => !IGNORE.excludes(f))).toEqual([]);
    expect(kept.filter((f) => IGNORE.excludes(f))).toEqual([]);
  });
});

/** Environment of a process in the image: the runtime stage's ENV, no host variables. */
function imageEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: extra.HOME ?? '/tmp', ...stageEnv(runtime()), ...extra };
}

/** Host environment without npm's lifecycle variables (this test may run under `npm test`). */
function cleanHostEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function get(port: number, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

describe('Dockerfile: replayed against this repository', () => {
  const roots = new Map<string, string>();
  let scratch: string;
  let buildLog = '';

  /** Directory standing for a stage's WORKDIR, and the host path of an absolute path in it. */
  const stagePath = (name: string, abs: string) => {
    const rel = path.posix.relative(stageWorkdir(stage(name)), abs);
    if (rel.startsWith('..')) throw new Error(`${abs} is outside WORKDIR of stage ${name}`);
    return path.join(roots.get(name)!, rel);
  };

  function replayRun(s: Stage, command: string, root: string): void {
    for (const step of command.split('&&').map((x) => x.trim())) {
      if (/^npm ci\b/.test(step) && /--omit=dev\b/.test(step)) {
        // npm ci --omit=dev: the lockfile's non-dev packages, linked from the installed tree.
        const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
        for (const [key, entry] of Object.entries(lock.packages)) {
          if (!key.startsWith('node_modules/') || key.indexOf('/node_modules/', 1) !== -1 || entry.dev) continue;
          const installed = path.join(ROOT, key);
          if (fs.existsSync(installed)) linkTree(installed, path.join(root, key));
        }
      } else if (/^npm ci\b/.test(step)) {
        // npm ci: the repository's installed tree (same lockfile).
        fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'), 'dir');
      } else if (/^npm cache clean\b/.test(step) || (s === runtime() && /^(apt-get|rm -rf \/var\/lib\/apt)/.test(step))) {
        // Image hygiene (and tini, which the replay does without): nothing to do here.
      } else if (/^npm run [\w:-]+$/.test(step)) {
        const res = spawnSync('sh', ['-c', step], { cwd: root, env: cleanHostEnv(), encoding: 'utf8', timeout: 300_000 });
        buildLog += `$ ${step}\n${res.stdout}${res.stderr}`;
        if (res.status !== 0) throw new Error(`stage ${s.name}: \`${step}\` failed (exit ${res.status}):\n${buildLog}`);
      } else {
        throw new Error(`stage ${s.name}: RUN step \`${step}\` is not replayed by this test; teach dockerfile.spec.ts about it`);
      }
    }
  }

  function replayStage(s: Stage): void {
    const root = path.join(scratch, s.name);
    fs.mkdirSync(root, { recursive: true });
    roots.set(s.name, root);
    for (const i of s.instructions) {
      if (isCopy(i)) {
        const c = copySpec(i);
        if (c.from) replayStageCopy(c, root);
        else replayContextCopy(ROOT, c, root, IGNORE);
      } else if (i.keyword === 'RUN') {
        replayRun(s, i.content, root);
      }
    }
  }

  function replayStageCopy(c: CopySpec, root: string): void {
    for (const src of c.sources) {
      const from = stagePath(c.from!, src);
      if (!fs.existsSync(from)) throw new Error(`line ${c.line}: COPY --from=${c.from} ${src}: not present in stage ${c.from} after its build`);
      linkTree(from, path.join(root, c.dest));
    }
  }

  let replayError: Error | undefined;
  /** Every test below needs the replayed image; a failed replay is reported by each of them. */
  const replayed = () => {
    if (replayError) throw replayError;
  };

  beforeAll(() => {
    scratch = scratchDir('docker-replay');
    try {
      for (const s of parsed.stages) replayStage(s);
    } catch (e) {
      replayError = e as Error;
    }
  }, 300_000);

  it('the build stage produced the service entry point from the files it copied', () => {
    replayed();
    const cmd = execForm(last(runtime(), 'CMD')!.content)!;
    expect(fs.existsSync(path.join(roots.get('build')!, cmd[1]))).toBe(true);
  });

  it('every path copied from an earlier stage exists after the build', () => {
    replayed();
    for (const s of parsed.stages) {
      for (const c of copies(s).filter((x) => x.from)) {
        for (const src of c.sources) expect({ copy: `${c.from}:${src}`, exists: fs.existsSync(stagePath(c.from!, src)) }).toEqual({ copy: `${c.from}:${src}`, exists: true });
      }
    }
    // Production dependencies only: no devDependency made it into the runtime node_modules.
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const modules = path.join(roots.get('runtime')!, 'node_modules');
    expect(Object.keys(pkg.dependencies).filter((d) => !fs.existsSync(path.join(modules, d)))).toEqual([]);
    expect(Object.keys(pkg.devDependencies).filter((d) => fs.existsSync(path.join(modules, d)))).toEqual([]);
  });

  describe('the runtime command', () => {
    let child: ChildProcess | undefined;
    let port = 0;
    let env: NodeJS.ProcessEnv = {};
    let output = '';
    let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

    beforeAll(async () => {
      if (replayError) return;
      const root = roots.get('runtime')!;
      const rulesDir = path.join(scratchDir('rules-dir'), 'rules');
      fs.cpSync(path.join(root, path.posix.relative(stageWorkdir(runtime()), stageEnv(runtime()).RULES_DIR)), rulesDir, { recursive: true });
      port = await freePort();
      env = imageEnv({ PORT: String(port), RULES_DIR: rulesDir, HOME: scratch });
      const [cmd, ...args] = execForm(last(runtime(), 'CMD')!.content)!;
      child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
      exited = new Promise((resolve) => child!.once('exit', (code, signal) => resolve({ code, signal })));
    });

    afterAll(() => {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });

    it('starts the built service: /health/live answers 200', async () => {
      replayed();
      const deadline = Date.now() + 30_000;
      let last = 'no answer';
      while (Date.now() < deadline) {
        if (child!.exitCode !== null) throw new Error(`service exited with ${child!.exitCode} before /health/live answered:\n${output}`);
        try {
          const res = await get(port, '/health/live');
          if (res.status === 200) return;
          last = `HTTP ${res.status} ${res.body}`;
        } catch (e) {
          last = String(e);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`/health/live did not answer 200 within 30 s (last: ${last}):\n${output}`);
    }, 40_000);

    it('is ready in embedded mode with the repository rules', async () => {
      replayed();
      const deadline = Date.now() + 15_000;
      let res = await get(port, '/health/ready');
      while (res.status !== 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        res = await get(port, '/health/ready');
      }
      expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: expect.any(String) });
    }, 20_000);

    it('passes the image HEALTHCHECK, which fails when nothing listens', () => {
      replayed();
      const [cmd, ...args] = execForm(last(runtime(), 'HEALTHCHECK')!.content.replace(/^CMD\s+/, ''))!;
      const ok = spawnSync(cmd, args, { cwd: roots.get('runtime'), env, encoding: 'utf8', timeout: 10_000 });
      expect({ status: ok.status, stderr: ok.stderr }).toEqual({ status: 0, stderr: '' });
      const closed = spawnSync(cmd, args, { cwd: roots.get('runtime'), env: { ...env, PORT: '1' }, encoding: 'utf8', timeout: 10_000 });
      expect(closed.status).not.toBe(0);
    });

    it('exposes on /metrics every metric the alerting rules read', async () => {
      replayed();
      const res = await get(port, '/metrics');
      expect(res.status).toBe(200);
      const rules = YAML.parse(fs.readFileSync(path.join(CHART_DIR, 'files', 'prometheus-rules.yaml'), 'utf8')) as { groups: { rules: { expr: string }[] }[] };
      const read = [...new Set(rules.groups.flatMap((g) => g.rules.flatMap((r) => metricsIn(r.expr))))].sort();
      const exposed = exposedFamilies(res.body);
      expect(read.filter((m) => !exposed.includes(m))).toEqual([]);
    });

    it('exits 0 on SIGTERM', async () => {
      replayed();
      child!.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 15_000)));
      const result = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      expect({ result, output: result === 'timeout' || result.code !== 0 ? output : '' }).toEqual({ result: { code: 0, signal: null }, output: '' });
    }, 20_000);
  });
});
