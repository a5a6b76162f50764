import { defineProject } from 'vitest/config';
import { vpeftProject } from '../../vitest.shared';

export default defineProject(vpeftProject('install', { testTimeout: 180_000 }));
