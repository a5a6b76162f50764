import { defineProject } from 'vitest/config';
import { vpeftProject } from '../../vitest.shared';

export default defineProject(vpeftProject('bench', { setupFiles: ['./test/setup.ts'] }));
