import { defineProject } from 'vitest/config';
import { vpeftProject } from '../../vitest.shared';

export default defineProject(vpeftProject('datasets', { setupFiles: ['./test/setup.ts'], testTimeout: 60_000 }));
