import { DockerfileParser, Instruction as AstInstruction } from 'dockerfile-ast';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Instruction {
  keyword: string;
  /** Arguments with line continuations joined and flags removed. */
  content: string;
  flags: Record<string, string>;
  /** 1-based line of the instruction. */
  line: number;
  /** ENV/ARG name=value pairs. */
  properties: [string, string][];
}

export interface Stage {
  name: string;
  /** Base image with the global ARG defaults substituted. */
  image: string;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  args: Record<string, string>;
  stages: Stage[];
}

function toInstruction(i: AstInstruction): Instruction {
  const withFlags = i as AstInstruction & { getFlags?: () => { getName(): string; getValue(): string | null }[] };
  const withProps = i as AstInstruction & { getProperties?: () => { getName(): string; getValue(): string | null }[] };
  return {
    keyword: i.getKeyword().toUpperCase(),
    content: (i.getArgumentsContent() ?? '').trim(),
    flags: Object.fromEntries((withFlags.getFlags?.() ?? []).map((f) => [f.getName(), f.getValue() ?? ''])),
    line: i.getRange().start.line + 1,
    properties: (withProps.getProperties?.() ?? []).map((p) => [p.getName(), p.getValue() ?? '']),
  };
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const df = DockerfileParser.parse(text);
  const args: Record<string, string> = {};
  for (const a of df.getInitialARGs()) {
    const p = a.getProperty();
    if (p) args[p.getName()] = p.getValue() ?? '';
  }
  const subst = (s: string) => s.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_m, n: string) => args[n] ?? '');
  const stages: Stage[] = [];
  for (const instr of df.getInstructions()) {
    const ins = toInstruction(instr);
    if (ins.keyword === 'FROM') {
      const [image, as, name] = ins.content.split(/\s+/);
      stages.push({ name: as?.toUpperCase() === 'AS' ? name : String(stages.length), image: subst(image), instructions: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1].instructions.push(ins);
    }
  }
  return { args, stages };
}

/** The JSON (exec) form of CMD/ENTRYPOINT/HEALTHCHECK CMD, or null for the shell form. */
export function execForm(content: string): string[] | null {
  const text = content.trim();
  if (!text.startsWith('[')) return null;
  const parsed = JSON.parse(text) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) return null;
  return parsed as string[];
}

/** Values of the ENV instructions of a stage, in order. */
export function stageEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of stage.instructions) if (i.keyword === 'ENV') for (const [k, v] of i.properties) env[k] = v;
  return env;
}

/** WORKDIR of a stage (the last one; the Dockerfile uses one per stage). */
export function stageWorkdir(stage: Stage): string {
  const w = stage.instructions.filter((i) => i.keyword === 'WORKDIR').pop();
  if (!w) throw new Error(`stage ${stage.name} has no WORKDIR`);
  return w.content;
}

export interface CopySpec {
  from?: string;
  sources: string[];
  dest: string;
  line: number;
}

export function isCopy(i: Instruction): boolean {
  return i.keyword === 'COPY' || i.keyword === 'ADD';
}

export function copySpec(i: Instruction): CopySpec {
  const parts = execForm(i.content) ?? i.content.split(/\s+/);
  if (parts.length < 2) throw new Error(`line ${i.line}: COPY needs a source and a destination`);
  return { from: i.flags.from, sources: parts.slice(0, -1), dest: parts[parts.length - 1], line: i.line };
}

export function copies(stage: Stage): CopySpec[] {
  return stage.instructions.filter(isCopy).map(copySpec);
}

/**
 * .dockerignore semantics (moby/patternmatcher): patterns are cleaned paths relative to the
 * context; `*` and `?` stay within one path segment, `**` spans any number; a pattern that
 * matches a parent directory matches everything below it; `!` re-includes; the last
 * matching pattern decides.
 */
export class DockerIgnore {
  private readonly patterns: { re: RegExp; exclude: boolean }[] = [];

  constructor(text: string) {
    for (const raw of text.split('\n')) {
      let line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const exclude = !line.startsWith('!');
      if (!exclude) line = line.slice(1).trim();
      line = path.posix.normalize(line).replace(/^\/+/, '').replace(/\/+$/, '');
      if (line === '.' || line === '') continue;
      this.patterns.push({ re: DockerIgnore.toRegExp(line), exclude });
    }
  }

  private static toRegExp(pattern: string): RegExp {
    let re = '';
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i];
      if (c === '*' && pattern[i + 1] === '*') {
        if (pattern[i + 2] === '/') {
          re += '(?:.*/)?';
          i += 2;
        } else {
          re += '.*';
          i += 1;
        }
      } else if (c === '*') re += '[^/]*';
      else if (c === '?') re += '[^/]';
      else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    return new RegExp(`^${re}$`);
  }

  /** Whether a context-relative path (posix) is left out of the build context. */
  excludes(rel: string): boolean {
    const parts = rel.split('/');
    const candidates = parts.map((_p, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const p of this.patterns) {
      if (candidates.some((c) => p.re.test(c))) excluded = p.exclude;
    }
    return excluded;
  }
}

/** Files (context-relative, posix) below a context path that survive .dockerignore. */
export function contextFiles(contextDir: string, rel: string, ignore: DockerIgnore): string[] {
  const abs = path.join(contextDir, rel);
  if (!fs.existsSync(abs)) return [];
  const clean = path.posix.normalize(rel).replace(/\/+$/, '');
  if (fs.statSync(abs).isFile()) return ignore.excludes(clean) ? [] : [clean];
  const out: string[] = [];
  const walk = (dirRel: string) => {
    for (const entry of fs.readdirSync(path.join(contextDir, dirRel), { withFileTypes: true })) {
      const childRel = `${dirRel}/${entry.name}`;
      if (entry.isDirectory()) walk(childRel);
      else if (!ignore.excludes(childRel)) out.push(childRel);
    }
  };
  walk(clean);
  return out.sort();
}

/**
 * Replays a COPY from the build context into a directory standing for the stage's
 * filesystem at WORKDIR: a directory source copies its (non-ignored) contents, a file
 * source copies the file. Throws as `docker build` would when a source has no file left.
 */
export function replayContextCopy(contextDir: string, copy: CopySpec, stageRoot: string, ignore: DockerIgnore): string[] {
  const copied: string[] = [];
  for (const src of copy.sources) {
    if (/[*?[]/.test(src)) throw new Error(`line ${copy.line}: wildcard COPY sources are not replayed by this test (${src})`);
    const files = contextFiles(contextDir, src, ignore);
    if (files.length === 0) {
      throw new Error(`line ${copy.line}: COPY ${src} has no file in the build context (missing, empty, or excluded by .dockerignore)`);
    }
    const isDir = fs.statSync(path.join(contextDir, src)).isDirectory();
    const srcBase = path.posix.normalize(src).replace(/\/+$/, '');
    for (const f of files) {
      const target = isDir
        ? path.join(stageRoot, copy.dest, path.posix.relative(srcBase, f))
        : copy.dest.endsWith('/') || copy.sources.length > 1
          ? path.join(stageRoot, copy.dest, path.posix.basename(f))
          : path.join(stageRoot, copy.dest);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.copyFileSync(path.join(contextDir, f), target);
      copied.push(f);
    }
  }
  return copied;
}

/** Hard-links (or, across file systems, copies) a directory tree. */
export function linkTree(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  const res = spawnSync('cp', ['-al', from, to], { encoding: 'utf8' });
  if (res.status !== 0) fs.cpSync(from, to, { recursive: true, verbatimSymlinks: true });
}
