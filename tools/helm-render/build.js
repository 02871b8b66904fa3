#!/usr/bin/env node
'use strict';
/**
 * Builds tools/helm-render (Go, text/template + sprig) offline against Debian's packaged
 * Go libraries and caches the binary under .cache/helm-render/<hash>/, keyed by the source
 * and the Go version, so it is rebuilt only when either changes.
 *
 *   node tools/helm-render/build.js            # prints the binary's path
 *   $(node tools/helm-render/build.js) -f helm/cepheus/ci/minimal-values.yaml helm/cepheus
 *
 * Needs: apt-get install golang-go golang-github-masterminds-sprig-dev
 * (sprig's dependencies, gopkg.in/yaml.v3 among them, come with it).
 *
 * Debian installs sprig v3 and semver v3 under /usr/share/gocode/src without the /v3
 * suffix of their module paths; a tiny GOPATH of symlinks adds the /v3 import paths, and
 * GO111MODULE=off keeps the go command from looking for a module proxy.
 */
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const CACHE = path.join(ROOT, '.cache', 'helm-render');
const SYSTEM_GOPATH = '/usr/share/gocode';
const V3_ALIASES = ['github.com/Masterminds/sprig', 'github.com/Masterminds/semver'];

function goEnv(gopath) {
  return {
    ...process.env,
    GO111MODULE: 'off',
    GOPATH: gopath,
    GOPROXY: 'off',
    GOFLAGS: '',
    GOTOOLCHAIN: 'local',
    GOCACHE: path.join(ROOT, '.cache', 'go-build'),
  };
}

function goVersion() {
  try {
    return execFileSync('go', ['version'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      'helm-render: the Go toolchain is missing; install it with `apt-get install -y golang-go golang-github-masterminds-sprig-dev`',
    );
  }
}

/** Path of an up-to-date helm-render binary, building it first when needed. */
function ensureHelmRender() {
  const srcDir = __dirname;
  const sources = fs.readdirSync(srcDir).filter((f) => f.endsWith('.go')).sort();
  const hash = crypto.createHash('sha256');
  hash.update(goVersion());
  for (const f of sources) hash.update(f).update(fs.readFileSync(path.join(srcDir, f)));
  const key = hash.digest('hex').slice(0, 16);
  const bin = path.join(CACHE, key, 'helm-render');
  if (fs.existsSync(bin)) return bin;

  for (const pkg of V3_ALIASES) {
    const target = path.join(SYSTEM_GOPATH, 'src', pkg);
    if (!fs.existsSync(target)) {
      throw new Error(
        `helm-render: ${target} is missing; install it with \`apt-get install -y golang-github-masterminds-sprig-dev\``,
      );
    }
    const link = path.join(CACHE, 'gopath', 'src', pkg, 'v3');
    fs.mkdirSync(path.dirname(link), { recursive: true });
    if (!fs.existsSync(link)) fs.symlinkSync(target, link);
  }
  const tmp = `${bin}.${process.pid}.tmp`;
  fs.mkdirSync(path.dirname(bin), { recursive: true });
  execFileSync('go', ['build', '-o', tmp, '.'], {
    cwd: srcDir,
    env: goEnv(`${SYSTEM_GOPATH}:${path.join(CACHE, 'gopath')}`),
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  fs.renameSync(tmp, bin);
  return bin;
}

module.exports = { ensureHelmRender };

if (require.main === module) {
  process.stdout.write(`${ensureHelmRender()}\n`);
}
