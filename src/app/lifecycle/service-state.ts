/**
 * Whether the service takes input, and the work in flight: on SIGTERM the service stops taking input
 * (draining), waits for the requests already running, then flushes and exits.
 */
import { Injectable } from '@nestjs/common';

@Injectable()
export class ServiceState {
  private drainingSince: number | undefined;
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly drainListeners = new Set<() => void>();

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  /** Stops taking input; listeners (live streams, the rule file watcher) are told once. */
  startDraining(): void {
    if (this.drainingSince !== undefined) return;
    this.drainingSince = Date.now();
    for (const l of this.drainListeners) {
      try {
        l();
      } catch {
        // keep draining the others
      }
    }
    this.drainListeners.clear();
  }

  onDrain(listener: () => void): () => void {
    if (this.draining) {
      listener();
      return () => undefined;
    }
    this.drainListeners.add(listener);
    return () => this.drainListeners.delete(listener);
  }

  /** Marks one unit of work as started; call the returned function when it ends. */
  begin(): () => void {
    this.inFlight++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.inFlight--;
      if (this.inFlight === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    };
  }

  get inFlightCount(): number {
    return this.inFlight;
  }

  /** Resolves once no work is in flight. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
