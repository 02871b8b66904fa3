/** A binary min-heap of timers ordered by (time, seq), with lazy removal of cancelled entries. */
export interface QueuedTimer {
  time: number;
  seq: number;
  cancelled: boolean;
}

export class TimerQueue<T extends QueuedTimer> {
  private heap: T[] = [];
  private cancelledCount = 0;

  /** Live (not cancelled) timers. */
  get size(): number {
    return this.heap.length - this.cancelledCount;
  }

  push(entry: T): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  cancel(entry: T): void {
    if (entry.cancelled) return;
    entry.cancelled = true;
    this.cancelledCount++;
    // Cancelled timers are dropped lazily; rebuild when they dominate so memory stays bounded.
    if (this.cancelledCount > 1024 && this.cancelledCount * 2 > this.heap.length) this.rebuild();
  }

  /** The earliest live timer, or undefined. */
  peek(): T | undefined {
    const h = this.heap;
    while (h.length > 0 && h[0].cancelled) {
      this.removeTop();
      this.cancelledCount--;
    }
    return h[0];
  }

  /** Calls `visit` for every live timer due at or before `time`, in no particular order (nothing is removed). */
  forEachDueBy(time: number, visit: (entry: T) => void): void {
    const h = this.heap;
    const stack = h.length > 0 ? [0] : [];
    while (stack.length > 0) {
      const i = stack.pop()!;
      // A heap's subtree holds nothing earlier than its root.
      if (h[i].time > time) continue;
      if (!h[i].cancelled) visit(h[i]);
      const l = 2 * i + 1;
      if (l < h.length) stack.push(l);
      if (l + 1 < h.length) stack.push(l + 1);
    }
  }

  pop(): T | undefined {
    const top = this.peek();
    if (top !== undefined) this.removeTop();
    return top;
  }

  private removeTop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l], h[m])) m = l;
      if (r < h.length && before(h[r], h[m])) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }

  private rebuild(): void {
    const live = this.heap.filter((e) => !e.cancelled);
    this.heap = [];
    this.cancelledCount = 0;
    for (const e of live) this.push(e);
  }
}

function before(a: QueuedTimer, b: QueuedTimer): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
