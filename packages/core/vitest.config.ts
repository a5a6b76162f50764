import { defineProject } from 'vitest/config';
import { vpeftProject } from '../../vitest.shared';

export default defineProject(vpeftProject('core', { setupFiles: ['./test/node-entry.setup.ts'] }));
