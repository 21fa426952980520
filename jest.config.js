// Three projects so the slow real-tool tests can run alone (npm run test:e2e); `npm test`
// runs unit and e2e and ends with the plain summary line of test/reporter.js. The fault-
// injection suite (npm run test:faults) is its own project; its reporter prints the
// fault table when fault tests ran.
const transform = {
  '^.+\\.ts$': ['@swc/jest', {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  }],
};
const common = { transform, testEnvironment: 'node', moduleFileExtensions: ['ts', 'js', 'json'] };
module.exports = {
  reporters: ['default', '<rootDir>/test/reporter.js', '<rootDir>/test/faults/faultReporter.js'],
  globalSetup: '<rootDir>/test/globalSetup.ts',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    // The engine's tests that keep state in its database, once more on PostgreSQL: one
    // server started by the project's global set-up, a database per engine
    // (test/helpers/testDatabase.ts).
    {
      ...common,
      displayName: 'engine-pg',
      testMatch: ['<rootDir>/test/unit/{engine,ovirt,rooms,cli}/**/*.test.ts'],
      // The port's own test runs both databases already (in the unit project).
      testPathIgnorePatterns: ['/test/unit/engine/store/'],
      globals: { OVIRT_SYSPREP_TEST_STORE: 'postgresql' },
      globalSetup: '<rootDir>/test/postgresSetup.ts',
      globalTeardown: '<rootDir>/test/postgresTeardown.ts',
    },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'], slowTestThreshold: 60 },
    { ...common, displayName: 'faults', testMatch: ['<rootDir>/test/faults/**/*.test.ts'], slowTestThreshold: 120 },
    // Self-checks of the slow-to-read fixtures (batch mode's two-disk and LVM guests): the
    // e2e tests that use them fail too when they are wrong; run apart (npm run test:checks).
    { ...common, displayName: 'checks', testMatch: ['<rootDir>/test/checks/**/*.test.ts'], slowTestThreshold: 120 },
    // The .deb and .rpm of `npm run package`, installed into a scratch root and started
    // (test/packaging/): run apart with `npm run test:package`, which builds them first.
    { ...common, displayName: 'packages', testMatch: ['<rootDir>/test/packaging/**/*.test.ts'], slowTestThreshold: 60 },
  ],
};
