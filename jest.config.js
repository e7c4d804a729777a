/** Two projects: the service with its tools (app, scripts) and the Pulumi program (infra), each with its own tsconfig. */
const tsJest = (tsconfig) => ({ '^.+\\.ts$': ['ts-jest', { tsconfig }] });

module.exports = {
  projects: [
    {
      displayName: 'app',
      testEnvironment: '<rootDir>/test/support/onnx-environment.js',
      roots: ['<rootDir>/test/app', '<rootDir>/test/scripts', '<rootDir>/test/clients', '<rootDir>/test/bench'],
      testMatch: ['**/*.test.ts'],
      transform: tsJest('<rootDir>/tsconfig.test.json'),
      // Builds dist/ (the worker thread and child processes run the compiled code), then the synthetic models.
      globalSetup: '<rootDir>/test/app/support/global-setup.ts',
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
