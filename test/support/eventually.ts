/**
 * Polls `check` until it returns a truthy value (errors thrown meanwhile count as "not yet"), or fails after
 * `timeoutMs` with the last error. The one polling helper of the suites.
 */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 5000, what = 'condition', everyMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
