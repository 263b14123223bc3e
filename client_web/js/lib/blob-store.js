// Files kept in the browser across reloads: an IndexedDB object store of Blobs by key, so an
// upload interrupted by a reload can resume from the bytes it still has. Where IndexedDB is
// missing or refuses (private modes, quota), it keeps them in memory for this page only: the
// upload then survives a dropped connection but not a reload, and says so when it cannot resume.
//
// API (every method returns a Promise and never rejects):
//   put(key, blob) → true if kept (false: not even in memory)   get(key) → Blob | null
//   delete(key)    keys() → string[]

const STORE = 'blobs';

/** A store that keeps Blobs in this page's memory only. */
export class MemoryBlobStore {
  constructor() {
    this.map = new Map();
  }
  async put(key, blob) {
    this.map.set(key, blob);
    return true;
  }
  async get(key) {
    return this.map.get(key) ?? null;
  }
  async delete(key) {
    this.map.delete(key);
  }
  async keys() {
    return [...this.map.keys()];
  }
}

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function openDb(name, idb) {
  if (!idb) return null;
  try {
    const open = idb.open(name, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(STORE);
    return await request(open);
  } catch {
    return null;
  }
}

/** The blob store kept in IndexedDB database `name` (opened on first use); in memory where
 * IndexedDB is unusable. */
export function blobStore(name, idb = globalThis.indexedDB) {
  const memory = new MemoryBlobStore();
  let dbp = null;
  const run = async (mode, fn) => {
    dbp ??= openDb(name, idb);
    const db = await dbp;
    if (!db) throw new Error('no IndexedDB');
    const tx = db.transaction(STORE, mode);
    return request(fn(tx.objectStore(STORE)));
  };
  return {
    async put(key, blob) {
      try {
        await run('readwrite', (s) => s.put(blob, key));
        return true;
      } catch {
        return memory.put(key, blob); // quota, or a Blob it refuses: this page only
      }
    },
    async get(key) {
      try {
        return (await run('readonly', (s) => s.get(key))) ?? (await memory.get(key));
      } catch {
        return memory.get(key);
      }
    },
    async delete(key) {
      await memory.delete(key);
      try {
        await run('readwrite', (s) => s.delete(key));
      } catch {
        // it goes with the next successful delete, or with the site's data
      }
    },
    async keys() {
      try {
        return [...(await run('readonly', (s) => s.getAllKeys())), ...(await memory.keys())];
      } catch {
        return memory.keys();
      }
    },
  };
}
