// Tests are written in TypeScript and run from the build output (`npm test` builds first).
export default {
  files: ['dist/test/**/*.test.js'],
  timeout: '2m',
  concurrency: 2,
  workerThreads: false,
};
