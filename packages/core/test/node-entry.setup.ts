// Core's tests import its modules directly (not through src/index.ts); install what the Node entry
// installs on import, so that they run as Node callers do: Node's file system and backend environment.
import '../src/io/node-file-system';
import '../src/backend/node-backend-environment';
