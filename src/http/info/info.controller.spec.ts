import type { RuleRegistry } from '../../app/rules/rule-registry';
import { defaultConfig, loadConfig } from '../../config/config';
import { InfoController } from './info.controller';

describe('InfoController (GET /)', () => {
  const registry = { counts: () => ({ running: 3, files: 1, api: 2 }) } as unknown as RuleRegistry;

  it('says embedded mode without KAFKA_BROKERS', () => {
    expect(new InfoController(registry, defaultConfig()).info()).toMatchObject({ service: 'cepheus', mode: 'embedded', rules: 3, docs: '/docs' });
  });

  it('says kafka mode when KAFKA_BROKERS is set (it always said embedded)', () => {
    const { config } = loadConfig({ RULES_DIR: '', KAFKA_BROKERS: 'kafka-1:9092' });
    expect(config?.kafka).not.toBeNull();
    expect(new InfoController(registry, config!).info()).toMatchObject({ mode: 'kafka', rules: 3 });
  });
});
