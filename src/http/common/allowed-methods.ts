/**
 * The methods the application's routes take on a path, read from Express's own router (the routes Nest and
 * the OpenAPI docs registered), so that a known path asked with another method is told 405 and what it takes.
 */
import type { Application } from 'express';

interface RouterLayer {
  route?: { methods: Record<string, boolean | undefined> };
  match(path: string): unknown;
}

const ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * The methods of the routes matching `path`: HEAD with GET (Express answers it), OPTIONS with any (the service
 * answers it with Allow). [] for a path no route has.
 */
export function allowedMethods(app: Application, path: string): string[] {
  const stack = (app as unknown as { router: { stack: RouterLayer[] } }).router.stack;
  const methods = new Set<string>();
  for (const layer of stack) {
    if (!layer.route) continue;
    let matches: unknown;
    try {
      matches = layer.match(path);
    } catch {
      // A path Express cannot decode matches nothing here (Express itself answers it 400).
      matches = false;
    }
    if (!matches) continue;
    for (const [method, on] of Object.entries(layer.route.methods)) if (on) methods.add(method.toUpperCase());
  }
  if (methods.size === 0) return [];
  if (methods.has('GET')) methods.add('HEAD');
  methods.add('OPTIONS');
  return [...methods].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

function rank(method: string): number {
  const i = ORDER.indexOf(method);
  return i < 0 ? ORDER.length : i;
}
