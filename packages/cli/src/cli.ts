#!/usr/bin/env node
import { debugRequested, installProcessErrorBoundary } from './error-boundary';

const argv = process.argv.slice(2);
installProcessErrorBoundary(debugRequested(argv));
// The commands are imported after the boundary is in place: an error while loading them ends as one line too.
const { runCli } = await import('./run-cli');
const code = await runCli(argv);
// On failure, exit now: work still in flight (prefetching decoders, worker threads) cannot add output.
if (code !== 0) process.exit(code);
process.exitCode = code;
