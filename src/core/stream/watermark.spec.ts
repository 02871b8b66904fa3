import { DEFAULT_STREAM_SETTINGS, type StreamSettings } from './settings';
import { WatermarkTracker } from './watermark';

const settings = (s: Partial<StreamSettings> = {}): StreamSettings => ({ ...DEFAULT_STREAM_SETTINGS, ...s });

describe('WatermarkTracker', () => {
  it('releases in-order events at once when maxOutOfOrderness is 0', () => {
    const w = new WatermarkTracker<string>(settings());
    expect(w.offer('a', 100, 0)).toEqual({ kind: 'buffered' });
    expect(w.release()).toEqual([{ item: 'a', time: 100 }]);
    expect(w.watermark).toBe(100);
    expect(w.offer('b', 100, 0)).toEqual({ kind: 'buffered' }); // at the watermark: not late
    expect(w.release().map((r) => r.item)).toEqual(['b']);
  });

  it('buffers out-of-order events and releases them in time order as the watermark passes them', () => {
    const w = new WatermarkTracker<string>(settings({ maxOutOfOrderness: 50 }));
    w.offer('t100', 100, 0);
    expect(w.release()).toEqual([]);
    expect(w.watermark).toBe(50);
    w.offer('t80', 80, 0);
    w.offer('t120', 120, 0);
    expect(w.watermark).toBe(70);
    expect(w.release()).toEqual([]);
    expect(w.offer('t60', 60, 0).kind).toBe('late_dropped'); // before the watermark (70)
    w.offer('t200', 200, 0);
    expect(w.watermark).toBe(150);
    expect(w.release().map((r) => r.item)).toEqual(['t80', 't100', 't120']);
    expect(w.buffered).toBe(1);
  });

  it('keeps arrival order between events of the same time', () => {
    const w = new WatermarkTracker<string>(settings({ maxOutOfOrderness: 10 }));
    for (const x of ['a', 'b', 'c']) w.offer(x, 5, 0);
    w.offer('later', 100, 0);
    expect(w.release().map((r) => r.item)).toEqual(['a', 'b', 'c']);
  });

  it('reports events before the watermark as late; within allowedLateness they are accepted', () => {
    const w = new WatermarkTracker<string>(settings({ allowedLateness: 30 }));
    w.offer('a', 1000, 0);
    w.release();
    expect(w.offer('b', 980, 0)).toEqual({ kind: 'late_accepted', lateBy: 20 });
    expect(w.offer('c', 970, 0)).toEqual({ kind: 'late_accepted', lateBy: 30 });
    expect(w.offer('d', 969, 0)).toEqual({ kind: 'late_dropped', lateBy: 31 });
    expect(w.watermark).toBe(1000);
    expect(w.buffered).toBe(0);
  });

  it('advances an idle partition with the wall clock from its last record', () => {
    const w = new WatermarkTracker<string>(settings({ maxOutOfOrderness: 100, idleTimeout: 1000 }));
    expect(w.tick(5_000)).toBe(false); // nothing seen yet
    w.offer('a', 10_000, 1_000);
    expect(w.watermark).toBe(9_900);
    expect(w.tick(1_999)).toBe(false); // not idle yet
    expect(w.tick(2_000)).toBe(true); // idle for 1 s: 9_900 + 1_000
    expect(w.watermark).toBe(10_900);
    expect(w.release().map((r) => r.item)).toEqual(['a']);
    expect(w.tick(4_500)).toBe(true);
    expect(w.watermark).toBe(13_400);
    // A new record re-anchors; the watermark never goes back.
    w.offer('b', 11_000, 5_000);
    expect(w.watermark).toBe(13_400);
    expect(w.offer('c', 13_000, 5_000).kind).toBe('late_dropped');
  });

  it('counts quiet time only up to the last moment the partition was known to have nothing to read', () => {
    const w = new WatermarkTracker<string>(settings({ maxOutOfOrderness: 100, idleTimeout: 1000 }));
    w.offer('a', 10_000, 1_000);
    // Confirmed empty at 1_500 only: the consumer may have stalled since, with records piling up.
    expect(w.tick(4_000, 1_500)).toBe(false);
    expect(w.watermark).toBe(9_900);
    expect(w.tick(4_000, 2_600)).toBe(true); // 1.6 s of known quiet
    expect(w.watermark).toBe(11_500);
    // A confirmation later than the wall clock counts no further than the wall clock.
    expect(w.tick(5_000, 9_000)).toBe(true);
    expect(w.watermark).toBe(13_900);
  });

  it('never advances with idleTimeout off', () => {
    const w = new WatermarkTracker<string>(settings({ idleTimeout: null }));
    w.offer('a', 10, 0);
    expect(w.tick(1e12)).toBe(false);
    expect(w.ticks).toBe(false);
  });

  it('processing time: the wall clock, never going back, nothing late', () => {
    const w = new WatermarkTracker<string>(settings({ timeMode: 'processing', maxOutOfOrderness: 500 }));
    const t1 = w.processingTime(1000);
    expect(w.offer('a', t1, 1000)).toEqual({ kind: 'buffered' });
    expect(w.release().map((r) => r.item)).toEqual(['a']);
    const t2 = w.processingTime(900); // the wall clock went back
    expect(t2).toBe(1000);
    expect(w.offer('b', t2, 900)).toEqual({ kind: 'buffered' });
    expect(w.release().map((r) => r.item)).toEqual(['b']);
    expect(w.tick(1500)).toBe(true);
    expect(w.watermark).toBe(1500);
    expect(w.processingTime(1200)).toBe(1500);
  });

  it('snapshots to JSON and restores the buffer, watermark and order', () => {
    const w = new WatermarkTracker<{ id: string }>(settings({ maxOutOfOrderness: 100 }));
    w.offer({ id: 'x' }, 500, 1);
    w.offer({ id: 'y' }, 450, 2);
    w.offer({ id: 'z' }, 450, 3);
    const snap = JSON.parse(JSON.stringify(w.snapshot()));
    const r = new WatermarkTracker<{ id: string }>(settings({ maxOutOfOrderness: 100 }));
    r.restore(snap);
    expect(r.watermark).toBe(400);
    r.offer({ id: 'late' }, 1000, 4);
    expect(r.release().map((x) => x.item.id)).toEqual(['y', 'z', 'x']);
    const empty = new WatermarkTracker<string>(settings());
    const restored = new WatermarkTracker<string>(settings());
    restored.restore(JSON.parse(JSON.stringify(empty.snapshot())));
    expect(restored.watermark).toBe(Number.NEGATIVE_INFINITY);
  });

  describe('merging several origins (repartition topics)', () => {
    it('holds the watermark at the slowest origin, including origins not heard from yet', () => {
      const w = new WatermarkTracker<string>(settings({ maxOutOfOrderness: 100, idleTimeout: 1000 }));
      w.expectOrigins(['s/0', 's/1'], 0);
      w.offer('a', 10_000, 10, 's/0');
      expect(w.watermark).toBe(Number.NEGATIVE_INFINITY); // s/1 not heard from yet
      w.offer('b', 2_000, 20, 's/1'); // far behind s/0, but in order for its origin: not late
      expect(w.watermark).toBe(1_900);
      expect(w.release()).toEqual([]);
      w.mark('s/1', 9_000, 30);
      expect(w.watermark).toBe(8_900);
      expect(w.release().map((r) => r.item)).toEqual(['b']);
      expect(w.offer('c', 8_000, 40, 's/1').kind).toBe('late_dropped');
    });

    it('an origin no longer expected (a source recreated with fewer partitions) stops holding the watermark', () => {
      const w = new WatermarkTracker<string>(settings({ maxOutOfOrderness: 100, idleTimeout: null }));
      w.expectOrigins(['s/0', 's/1', 's/2'], 0);
      w.offer('a', 10_000, 10, 's/0');
      w.offer('b', 2_000, 20, 's/1');
      expect(w.watermark).toBe(Number.NEGATIVE_INFINITY); // s/2 not heard from
      w.expectOrigins(['s/0', 's/1'], 25);
      w.tick(26);
      expect(w.watermark).toBe(Number.NEGATIVE_INFINITY); // without forgetOthers, only adds
      w.expectOrigins(['s/0', 's/1'], 30, { forgetOthers: true });
      w.tick(40);
      expect(w.watermark).toBe(1_900);
      w.expectOrigins(['s/0'], 50, { forgetOthers: true });
      w.tick(60);
      expect(w.watermark).toBe(9_900);
    });

    it('after a restore from a checkpoint taken before a source partition was added, expecting the plan\'s origins makes it wait for the new one', () => {
      const before = new WatermarkTracker<string>(settings({ maxOutOfOrderness: 0, idleTimeout: null }));
      before.expectOrigins(['s/0', 's/1'], 0);
      before.offer('a', 1_000, 10, 's/0');
      before.offer('b', 1_000, 10, 's/1');
      const restored = new WatermarkTracker<string>(settings({ maxOutOfOrderness: 0, idleTimeout: null }));
      restored.expectOrigins(['s/0', 's/1', 's/2'], 20);
      restored.restore(JSON.parse(JSON.stringify(before.snapshot())), 20); // the snapshot's origins replace them
      restored.expectOrigins(['s/0', 's/1', 's/2'], 20); // what the Kafka runtime does after a load
      restored.offer('c', 5_000, 30, 's/0');
      restored.offer('d', 5_000, 30, 's/1');
      expect(restored.watermark).toBe(1_000); // held by s/2, not heard from yet
      restored.offer('e', 2_000, 40, 's/2');
      expect(restored.watermark).toBe(2_000);
    });

    it('an origin forgotten and heard from again voids the progress held back without it', () => {
      const w = new WatermarkTracker<string>(settings({ maxOutOfOrderness: 0, idleTimeout: null }), { idleGrace: 1000 });
      w.expectOrigins(['s/0', 's/1'], 0);
      w.markIdle('s/1', 0);
      w.offer('a', 5_000, 10, 's/0'); // held: progress to 5_000 without s/1, for the grace
      w.expectOrigins(['s/0'], 20, { forgetOthers: true });
      w.offer('b', 1_000, 30, 's/1'); // s/1 comes back: what was held without it is void
      w.tick(5_000);
      expect(w.watermark).toBe(1_000);
      expect(w.release().map((r) => r.item)).toEqual(['b']);
    });

    it('a silent origin holds the watermark (its reader may be dead); once every origin is idle the wall clock moves it', () => {
      const w = new WatermarkTracker<string>(settings({ idleTimeout: 1000 }));
      w.expectOrigins(['s/0', 's/1'], 0);
      w.offer('a', 5_000, 0, 's/0');
      w.offer('b', 6_000, 500, 's/0');
      // s/1 says nothing for an hour: its records may still come (another replica takes its partition over).
      expect(w.tick(3_600_000)).toBe(false);
      expect(w.watermark).toBe(Number.NEGATIVE_INFINITY);
      expect(w.offer('c', 5_500, 3_600_001, 's/1').kind).toBe('buffered'); // not late
      expect(w.watermark).toBe(5_500);
      expect(w.release().map((r) => r.item)).toEqual(['a', 'c']);
      // Both say they are caught up: everything read counts, then the wall clock from the last record.
      w.markIdle('s/1', 3_600_002);
      w.markIdle('s/0', 3_600_002);
      expect(w.watermark).toBe(6_000);
      expect(w.release().map((r) => r.item)).toEqual(['b']);
      expect(w.tick(3_600_001 + 999)).toBe(false);
      expect(w.tick(3_600_001 + 1_100)).toBe(true);
      expect(w.watermark).toBe(6_000 + 1_100);
    });

    it('an origin that says it is caught up stops holding the watermark back until it sends again', () => {
      const w = new WatermarkTracker<string>(settings({ idleTimeout: 30_000 }));
      w.expectOrigins(['s/0', 's/1', 's/2'], 0);
      w.offer('a', 5_000, 0, 's/0');
      w.mark('s/1', 7_000, 0);
      expect(w.watermark).toBe(Number.NEGATIVE_INFINITY);
      w.markIdle('s/2', 10);
      expect(w.watermark).toBe(5_000);
      expect(w.release().map((r) => r.item)).toEqual(['a']);
      w.offer('b', 9_000, 20, 's/0');
      expect(w.watermark).toBe(7_000); // s/1
      w.markIdle('s/1', 30);
      expect(w.watermark).toBe(9_000);
      w.offer('c', 9_500, 40, 's/2'); // back: it counts again
      w.offer('d', 12_000, 40, 's/0');
      expect(w.watermark).toBe(9_500);
      expect(JSON.parse(JSON.stringify(w.snapshot())).origins['s/1']).toEqual({ max: 7_000, last: 30, idle: true });
    });

    it('releases everything once every origin is caught up', () => {
      const w = new WatermarkTracker<string>(settings({ maxOutOfOrderness: 100 }));
      w.expectOrigins(['s/0', 's/1', 's/2'], 0);
      w.offer('login', 1_000, 0, 's/1');
      w.offer('purchase', 3_000, 0, 's/2');
      w.markIdle('s/0', 0);
      expect(w.watermark).toBe(900); // s/1 and s/2 are still sending
      w.markIdle('s/2', 0);
      w.markIdle('s/1', 0);
      expect(w.watermark).toBe(2_900);
      expect(w.release().map((r) => r.item)).toEqual(['login']); // purchase: within maxOutOfOrderness of the newest
      w.offer('later', 3_200, 0, 's/2');
      expect(w.release().map((r) => r.item)).toEqual(['purchase']);
    });

    it('progress that leaves caught-up origins out waits idleGrace, so a burst on all of them stays in order', () => {
      const w = new WatermarkTracker<string>(settings({ idleTimeout: 30_000 }), { idleGrace: 1000 });
      w.expectOrigins(['s/0', 's/1'], 0);
      w.markIdle('s/0', 0);
      w.markIdle('s/1', 0);
      // A burst: s/0's events reach this partition first, s/1 was caught up until now.
      w.offer('a0', 5_000, 10_000, 's/0');
      w.offer('a1', 9_000, 10_000, 's/0');
      expect(w.watermark).toBe(Number.NEGATIVE_INFINITY); // would be 9 000 without s/1: held for 1 s
      expect(w.offer('b0', 4_000, 10_300, 's/1').kind).toBe('buffered'); // s/1 is back within the grace: not late
      expect(w.release().map((r) => r.item)).toEqual(['b0']);
      w.mark('s/1', 8_000, 10_300);
      expect(w.watermark).toBe(8_000);
      expect(w.release().map((r) => r.item)).toEqual(['a0']);
      // s/1 caught up again and stays so: after the grace, s/0 alone counts.
      w.markIdle('s/1', 10_400);
      // The grace, plus the sixteenth that progress of one held entry may have come after its first.
      w.tick(11_462);
      expect(w.watermark).toBe(8_000);
      w.tick(11_463);
      expect(w.watermark).toBe(9_000);
      expect(w.release().map((r) => r.item)).toEqual(['a1']);
    });

    it('a long catch-up next to a caught-up origin keeps few held entries (it was quadratic: 20,000 events in 4.6 s)', () => {
      const w = new WatermarkTracker<number>(settings({ idleTimeout: 30_000 }), { idleGrace: 2000 });
      w.expectOrigins(['s/0', 's/1', 's/2'], 0);
      w.markIdle('s/2', 0);
      const started = Date.now();
      let released = 0;
      for (let i = 0; i < 20_000; i++) {
        const wall = Math.floor(i / 40); // 40 events per wall ms
        w.offer(i, i, wall, i % 2 === 0 ? 's/0' : 's/1');
        released += w.release().length;
      }
      // Both readers are caught up: everything read counts.
      w.markIdle('s/0', 20_000 / 40);
      w.markIdle('s/1', 20_000 / 40);
      w.tick(20_000 / 40 + 2000 + 125);
      released += w.release().length;
      expect(released).toBe(20_000);
      expect(Date.now() - started).toBeLessThan(1500);
    });

    it('a steady stream next to a caught-up origin moves the watermark a grace behind (held progress does not wait forever)', () => {
      const w = new WatermarkTracker<number>(settings({ idleTimeout: 30_000 }), { idleGrace: 2000 });
      w.expectOrigins(['s/0', 's/1', 's/2'], 0);
      w.markIdle('s/2', 0);
      let released = 0;
      // One event every 20 ms of wall time for 60 s, event time = wall time.
      for (let wall = 0; wall < 60_000; wall += 20) {
        w.offer(wall, wall, wall, wall % 40 === 0 ? 's/0' : 's/1');
        released += w.release().length;
      }
      expect(released).toBeGreaterThan(2800); // all but about the last 2 s
      expect(w.watermark).toBeGreaterThan(60_000 - 2500);
    });

    it('a restored partition goes on from the quiet time its watermark already holds', () => {
      const w = new WatermarkTracker<string>(settings({ idleTimeout: 1000 }));
      w.offer('a', 10_000, 0);
      w.tick(6 * 3_600_000); // quiet for 6 h: the watermark follows the wall clock
      expect(w.watermark).toBe(10_000 + 6 * 3_600_000);
      const restored = new WatermarkTracker<string>(settings({ idleTimeout: 1000 }));
      restored.restore(JSON.parse(JSON.stringify(w.snapshot())), 7 * 3_600_000);
      // Another minute of quiet after the restore moves it on at once (the downtime itself is not counted).
      expect(restored.tick(7 * 3_600_000 + 60_000)).toBe(true);
      expect(restored.watermark).toBe(10_000 + 6 * 3_600_000 + 60_000);
    });

    it('a forced release (a buffer too large to store) gives its items even when an earlier origin could still send one of their time', () => {
      const w = new WatermarkTracker<number>(settings({ idleTimeout: null }));
      w.expectOrigins(['s/0', 's/1'], 0);
      w.mark('s/0', 5_000, 0);
      for (let i = 0; i < 100; i++) w.offer(i, 5_000, 0, 's/1', i);
      expect(w.watermark).toBe(5_000);
      expect(w.release()).toEqual([]); // s/0 may still send an event at 5 000, which comes first
      expect(w.raiseToRelease(50)).toBe(true);
      expect(w.release().map((r) => r.item)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      expect(w.release()).toEqual([]);
    });

    it('snapshots the origins', () => {
      const w = new WatermarkTracker<string>(settings({ maxOutOfOrderness: 10 }));
      w.expectOrigins(['s/0', 's/1'], 0);
      w.offer('a', 100, 0, 's/0');
      const r = new WatermarkTracker<string>(settings({ maxOutOfOrderness: 10 }));
      r.restore(JSON.parse(JSON.stringify(w.snapshot())));
      r.mark('s/1', 500, 1);
      expect(r.watermark).toBe(90);
      expect(r.release()).toEqual([]);
      r.mark('s/0', 200, 2);
      expect(r.release().map((x) => x.item)).toEqual(['a']);
    });
  });
});
