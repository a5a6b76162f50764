import type { UserWorkspaceConfig } from 'vitest/config';

const conditions = ['@vpeft/source', 'import', 'module', 'node', 'default'];

/**
 * The vitest project settings every package shares: workspace packages resolve to their
 * `src/` (the `@vpeft/source` export condition) and tfjs is initialised once per worker.
 */
export function vpeftProject(name: string, extra: { setupFiles?: string[]; testTimeout?: number; hookTimeout?: number } = {}): UserWorkspaceConfig {
  return {
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: conditions } },
    test: {
      name,
      environment: 'node',
      testTimeout: extra.testTimeout ?? 120_000,
      hookTimeout: extra.hookTimeout ?? 120_000,
      setupFiles: extra.setupFiles ?? [],
      pool: 'forks',
    },
  };
}
