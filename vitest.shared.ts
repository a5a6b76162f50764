import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UserWorkspaceConfig } from 'vitest/config';

/**
 * Where tests (and the CLI processes they spawn) keep feature-cache rows: never the user's
 * `~/.cache/vpeft`. `pnpm test` passes a fresh folder it removes afterwards; a direct `vitest run`
 * shares one folder under the system's temporary directory.
 */
const testCacheDir = process.env.VPEFT_CACHE_DIR ?? join(tmpdir(), 'vpeft-test-features');

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
      env: { VPEFT_CACHE_DIR: testCacheDir },
      testTimeout: extra.testTimeout ?? 120_000,
      hookTimeout: extra.hookTimeout ?? 120_000,
      setupFiles: extra.setupFiles ?? [],
      pool: 'forks',
    },
  };
}
