import { defineProject } from 'vitest/config';
import { vpeftProject } from '../../vitest.shared';

// The browser tests build the app (in a hook) and drive headless Chromium: minutes on a loaded 2-core machine.
export default defineProject(vpeftProject('web-app', { testTimeout: 300_000, hookTimeout: 300_000 }));
