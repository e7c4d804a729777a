/** Two projects: the service with its tools (app, scripts) and the Pulumi program (infra), each with its own tsconfig. */
const tsJest = (tsconfig) => ({ '^.+\\.ts$': ['ts-jest', { tsconfig }] });

module.exports = {
  projects: [
    {
      displayName: 'app',
      testEnvironment: '<rootDir>/test/support/onnx-environment.js',
      roots: ['<rootDir>/test/app', '<rootDir>/test/scripts', '<rootDir>/test/clients', '<rootDir>/test/bench', '<rootDir>/test/docs'],
      testMatch: ['**/*.test.ts'],
      transform: tsJest('<rootDir>/tsconfig.test.json'),
      // Transpiles app/, bench/ and scripts/ for the tests (worker threads and child processes run
      // compiled code), then makes the synthetic models; the resolver hands tests the compiled modules.
      globalSetup: '<rootDir>/test/app/support/global-setup.ts',
      resolver: '<rootDir>/test/support/resolve-compiled.js',
    },
    {
      displayName: 'infra',
      testEnvironment: 'node',
      roots: ['<rootDir>/test/infra'],
      testMatch: ['**/*.test.ts'],
      transform: tsJest('<rootDir>/infra/tsconfig.json'),
    },
  ],
  testTimeout: 120000,
};
