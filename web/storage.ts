// The browser's memory of the last weights the user loaded (IndexedDB: they are tens of MB, too big for
// localStorage), so a reload does not ask for them again. Small settings (document palette, recent colours)
// live in localStorage.

const DB_NAME = 'manga-colorize';
const STORE = 'weights';
const KEY = 'last';

export interface StoredWeights {
  files: { name: string; bytes: ArrayBuffer }[];
  savedAt: number;
}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB could not be opened.'));
  });
}

async function transact<T>(mode: IDBTransactionMode, run: (store: IDBObjectStore) => IDBRequest): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = run(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result as T);
      tx.onerror = tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction failed.'));
    });
  } finally {
    db.close();
  }
}

export const saveWeights = (files: StoredWeights['files']) =>
  transact<IDBValidKey>('readwrite', (s) => s.put({ files, savedAt: Date.now() } satisfies StoredWeights, KEY));

export const loadStoredWeights = () => transact<StoredWeights | undefined>('readonly', (s) => s.get(KEY));

export const forgetWeights = () => transact<undefined>('readwrite', (s) => s.delete(KEY));

/** A JSON value in localStorage, or `fallback` when absent or unreadable. */
export function readSetting<T>(key: string, fallback: T): T {
  try {
    const text = localStorage.getItem(`manga-colorize:${key}`);
    return text === null ? fallback : (JSON.parse(text) as T);
  } catch {
    return fallback;
  }
}

export function writeSetting(key: string, value: unknown): void {
  localStorage.setItem(`manga-colorize:${key}`, JSON.stringify(value));
}
