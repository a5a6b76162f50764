import { initBackend } from '@vpeft/core';
import { afterAll, beforeAll } from 'vitest';
import { endSession, startSession, type BrowserSession } from './harness';

/**
 * A browser session for a test file: Node's tfjs on wasm, then the app built and served and a page
 * opened before its tests (see `startSession`), all closed after them. The fields are set once the
 * `beforeAll` hook has run.
 */
export function browserSession(downloadsPrefix: string): BrowserSession {
  const session = {} as BrowserSession;
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
    Object.assign(session, await startSession(downloadsPrefix));
  });
  afterAll(() => endSession(session));
  return session;
}
