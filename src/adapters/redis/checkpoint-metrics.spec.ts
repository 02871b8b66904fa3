import { spawnSync } from 'node:child_process';
import { Registry } from 'prom-client';
import { PrometheusCheckpointMetrics } from './checkpoint-metrics';

describe('PrometheusCheckpointMetrics', () => {
  it('exposes every commit result and relay stage from the start, then counts what happened', async () => {
    const registry = new Registry();
    const m = new PrometheusCheckpointMetrics(registry);
    const before = await registry.metrics();
    for (const result of ['ok', 'unavailable', 'fenced', 'lost', 'limit', 'error']) expect(before).toContain(`cep_checkpoint_commits_total{result="${result}"} 0`);
    for (const stage of ['read', 'publish', 'ack']) expect(before).toContain(`cep_outbox_relay_failures_total{stage="${stage}"} 0`);

    m.commit('ok', 0.002);
    m.commit('limit', 0.001);
    m.commit('ok', 0.003);
    m.shed('snapshot', 'pairs');
    m.relayPublished(7);
    m.relayPublished(0);
    m.relayFailed('ack');
    m.orphansDropped(2);
    m.orphansDropped(0);
    const text = await registry.metrics();
    expect(text).toContain('cep_checkpoint_commits_total{result="ok"} 2');
    expect(text).toContain('cep_checkpoint_commits_total{result="limit"} 1');
    expect(text).toContain('cep_checkpoint_commit_duration_seconds_count 3');
    expect(text).toContain('cep_checkpoint_shed_total{kind="snapshot",rule="pairs"} 1');
    expect(text).toContain('cep_outbox_alerts_published_total 7');
    expect(text).toContain('cep_outbox_relay_failures_total{stage="ack"} 1');
    expect(text).toContain('cep_orphaned_partitions_dropped_total 2');
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    if (promtool.error) throw new Error(`promtool is not installed (apt-get install -y prometheus): ${promtool.error.message}`);
    expect({ status: promtool.status, output: promtool.stdout + promtool.stderr }).toEqual({ status: 0, output: '' });
  });

  it('reuses the series of a registry it was already created on (a restarted Kafka runtime)', () => {
    const registry = new Registry();
    new PrometheusCheckpointMetrics(registry);
    expect(() => new PrometheusCheckpointMetrics(registry)).not.toThrow();
  });
});
