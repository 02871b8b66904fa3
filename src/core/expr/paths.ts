/**
 * Property reads on untrusted event JSON.
 *
 * Only own properties are read: a name such as `toString`, `constructor`, `__proto__`, `map` or `length` on a
 * plain object must not reach Object.prototype / Array.prototype. Checking ownership with hasOwnProperty costs
 * ~15 ns a read in V8, far too much on the hot path, so the check is decided at compile time: a name that no
 * built-in prototype of a JSON value (Object.prototype, Array.prototype) defines can only be found as an own
 * property of a JSON object, and is read directly; the few names that a prototype does define are read with
 * an explicit ownership check. Primitive values (strings, numbers) are never indexed, so `'abc'.length` and
 * friends cannot leak either.
 */
import type { Bindings, EventRecord, Evaluator } from './types';

const hasOwn = Object.prototype.hasOwnProperty;

const INHERITED = new Set<string>([
  ...Object.getOwnPropertyNames(Object.prototype),
  ...Object.getOwnPropertyNames(Array.prototype),
  '__proto__',
]);

/** True when reading `name` with plain `obj[name]` could find something that is not an own property. */
export function isInheritedName(name: string): boolean {
  return INHERITED.has(name);
}

type Obj = Record<string, unknown>;

/** Own property `key` of `o`, or null (missing, inherited, or `o` not an object). */
export function ownProperty(o: unknown, key: string): unknown {
  if (o === null || typeof o !== 'object') return null;
  if (!hasOwn.call(o, key)) return null;
  const v = (o as Obj)[key];
  return v === undefined ? null : v;
}

/** Element `i` of an array, or null. */
export function element(a: unknown, i: number): unknown {
  if (!Array.isArray(a) || i >= a.length) return null;
  const v: unknown = a[i];
  return v === undefined ? null : v;
}

/** One step of a path after its root: a property name and an optional `[index]`. */
export interface Step {
  name: string;
  index?: number;
}

/** Reads `steps` from `root`; every missing piece gives null. */
function walk(root: unknown, steps: readonly Step[]): unknown {
  let v = root;
  for (let k = 0; k < steps.length; k++) {
    const s = steps[k];
    v = ownProperty(v, s.name);
    if (s.index !== undefined) v = element(v, s.index);
    if (v === null) return null;
  }
  return v;
}

/** A reader for `name` on an object value: direct when no prototype defines the name, checked otherwise. */
function propReader(name: string): (o: unknown) => unknown {
  if (isInheritedName(name)) return (o) => ownProperty(o, name);
  return (o) => {
    if (o === null || typeof o !== 'object') return null;
    const v = (o as Obj)[name];
    return v === undefined ? null : v;
  };
}

/**
 * Compiles a path over the current event: `price`, `geo.country`, `items[0].sku`. One- and two-step paths
 * without indexes get dedicated closures.
 */
export function eventPath(steps: readonly Step[]): Evaluator {
  const simple = steps.every((s) => s.index === undefined && !isInheritedName(s.name));
  if (simple && steps.length === 1) {
    const k = steps[0].name;
    return (e) => {
      if (e === null || typeof e !== 'object') return null;
      const v = (e as Obj)[k];
      return v === undefined ? null : v;
    };
  }
  if (simple && steps.length === 2) {
    const k1 = steps[0].name;
    const k2 = steps[1].name;
    return (e) => {
      if (e === null || typeof e !== 'object') return null;
      const o = (e as Obj)[k1];
      if (o === null || typeof o !== 'object') return null;
      const v = (o as Obj)[k2];
      return v === undefined ? null : v;
    };
  }
  if (steps.length === 1) {
    const read = propReader(steps[0].name);
    const i = steps[0].index;
    if (i === undefined) return (e) => read(e);
    return (e) => element(read(e), i);
  }
  return (e) => walk(e, steps);
}

/**
 * Compiles a path rooted at a tag's binding slot: bare `a`, `a.price`, `a.geo.country`; for a repeated tag
 * (`multi`) `a` is the array and `a[0].price` reads its first event (`rootIndex` 0).
 */
export function tagPath(slot: number, rootIndex: number | undefined, steps: readonly Step[]): Evaluator {
  if (rootIndex !== undefined) {
    if (steps.length === 0) return (_e, b) => element(b[slot], rootIndex);
    return (_e, b) => walk(element(b[slot], rootIndex), steps);
  }
  if (steps.length === 0) {
    return (_e, b: Bindings) => {
      const v = b[slot];
      return v === undefined ? null : v;
    };
  }
  if (steps.length === 1 && steps[0].index === undefined && !isInheritedName(steps[0].name)) {
    const k = steps[0].name;
    return (_e, b) => {
      const t = b[slot];
      if (t === null || typeof t !== 'object') return null;
      const v = (t as Obj)[k];
      return v === undefined ? null : v;
    };
  }
  return (_e, b) => walk(b[slot], steps);
}

/** For fast paths in compile.ts: reads own `key` (a non-inherited name) of the current event. */
export function readEventKey(e: EventRecord | undefined, key: string): unknown {
  if (e === null || typeof e !== 'object') return null;
  const v = (e as Obj)[key];
  return v === undefined ? null : v;
}

/**
 * Whether `steps` lead to a value present in `root` (Esper's `exists`): each name an own property of an
 * object, each index inside an array. A property holding null is present.
 */
export function pathPresent(root: unknown, steps: readonly Step[]): boolean {
  let v = root;
  for (let k = 0; k < steps.length; k++) {
    const s = steps[k];
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !hasOwn.call(v, s.name)) return false;
    v = (v as Obj)[s.name];
    if (s.index !== undefined) {
      if (!Array.isArray(v) || s.index >= v.length) return false;
      v = v[s.index];
    }
  }
  return v !== undefined;
}
