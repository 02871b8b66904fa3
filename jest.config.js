/** One suite: unit specs next to the code (src/**), scenario and integration tests under test/. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testTimeout: 30000,
  // A scenario test that fails midway can leave a client retrying (a producer, a consumer group): jest must
  // still exit, with the failure, rather than wait on it for ever (.ci/run would hang instead of failing).
  forceExit: true,
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
};
