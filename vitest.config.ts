import { defineConfig } from 'vitest/config';

// One vitest run over every package. Tests resolve workspace packages to their `src/`
// through the `@vpeft/source` export condition, so no build is needed to test.
export default defineConfig({
  test: {
    projects: ['packages/*', 'examples/*', 'tests/*'],
  },
});
