import { defineProject } from 'vitest/config';
import { vpeftProject } from '../../vitest.shared';

export default defineProject(vpeftProject('backend-webgpu', { setupFiles: ['./test/swiftshader-setup.ts'], testTimeout: 600_000 }));
