/**
 * docker-compose.yml, without a Docker engine: it parses, Cepheus' environment there is a valid Kafka-mode
 * configuration pointing at the compose broker's internal listener, the topics it creates are exactly the
 * shipped rules' sources, and every service Cepheus waits for exists and has a health check.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { loadRuleFiles } from '../../src/adapters/files/rule-files';
import { loadConfig } from '../../src/config/config';
import { ROOT } from './support/repo';

interface Service {
  image?: string;
  build?: string;
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  command?: string[];
  volumes?: string[];
  ports?: string[];
}

const compose = YAML.parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service> };
const { kafka, cepheus } = compose.services;

describe('docker-compose.yml', () => {
  it('runs Kafka in KRaft mode (broker and controller in one node, no ZooKeeper), Redis and Cepheus', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['cepheus', 'kafka', 'kafka-init', 'redis']);
    expect(kafka.image).toMatch(/^apache\/kafka:/);
    expect(kafka.environment).toMatchObject({ KAFKA_PROCESS_ROLES: 'broker,controller', KAFKA_CONTROLLER_QUORUM_VOTERS: '1@kafka:9093' });
    expect(JSON.stringify(compose)).not.toMatch(/zookeeper/i);
    expect(cepheus.build).toBe('.');
  });

  it("gives Cepheus a valid Kafka-mode configuration on the broker's internal listener", () => {
    const env = Object.fromEntries(Object.entries(cepheus.environment!).map(([k, v]) => [k, String(v)]));
    const { config, errors } = loadConfig({ ...env, RULES_DIR: path.join(ROOT, 'rules') });
    expect(errors).toEqual([]);
    expect(config!.kafka).not.toBeNull();
    expect(String(kafka.environment!.KAFKA_ADVERTISED_LISTENERS).split(',')).toContain(`PLAINTEXT://${config!.kafka!.brokers[0]}`);
    expect(config!.redis).not.toBeNull();
    expect(cepheus.volumes).toContain('./rules:/app/rules:ro');
  });

  it('creates the source topics of the shipped rules', async () => {
    const { rules } = await loadRuleFiles(path.join(ROOT, 'rules'));
    const sources = [...new Set(rules.map((r) => r.source))].sort();
    const script = compose.services['kafka-init'].command!.join('\n');
    const created = /for topic in ([^;]+);/.exec(script)![1].trim().split(/\s+/).sort();
    expect(created).toEqual(sources);
  });

  it('starts Cepheus once its dependencies are healthy', () => {
    for (const [name, dep] of Object.entries(cepheus.depends_on!)) {
      expect(compose.services[name]).toBeDefined();
      if (dep.condition === 'service_healthy') expect(compose.services[name].healthcheck).toBeDefined();
    }
  });
});
