import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.package';

export default defineConfig({ ...packageBuild, entry: { ...(packageBuild.entry as Record<string, string>), browser: 'src/browser.ts' } });
