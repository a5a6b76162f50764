import type { AdapterFiles } from '@vpeft/core';

/** Adapters kept in this browser (IndexedDB), by name: the same two files as a download. */
const DATABASE = 'vpeft-adapters';
const STORE = 'adapters';

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

async function withStore<T>(mode: IDBTransactionMode, use: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const open = indexedDB.open(DATABASE, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(STORE);
  const db = await request(open);
  try {
    const transaction = db.transaction(STORE, mode);
    const result = await request(use(transaction.objectStore(STORE)));
    await new Promise<void>((resolve, reject) => {
      transaction.oncomplete = () => resolve();
      transaction.onerror = () => reject(transaction.error ?? new Error('IndexedDB transaction failed'));
    });
    return result;
  } finally {
    db.close();
  }
}

/** Keeps `files` under `name` (replacing an adapter of that name). */
export async function saveAdapterInBrowser(name: string, files: AdapterFiles): Promise<void> {
  await withStore('readwrite', (store) => store.put(files, name));
}

/** The adapter kept under `name`; throws when there is none. */
export async function loadAdapterFromBrowser(name: string): Promise<AdapterFiles> {
  const files = await withStore<AdapterFiles | undefined>('readonly', (store) => store.get(name) as IDBRequest<AdapterFiles | undefined>);
  if (!files) throw new Error(`no adapter "${name}" is kept in this browser`);
  return files;
}

/** Names of the adapters kept in this browser. */
export async function listAdaptersInBrowser(): Promise<string[]> {
  return (await withStore('readonly', (store) => store.getAllKeys())).map(String);
}
