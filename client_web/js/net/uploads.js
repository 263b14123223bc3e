// Resumable uploads over HTTPS (PROTOCOL.md §16.2: tus 1.0.0 core + creation + termination),
// with the session cookie. PATCH goes through XMLHttpRequest, the only browser API that
// reports upload progress in every engine; the rest through fetch.
//
// Every function returns a Promise that rejects with an UploadError: `status` is the HTTP
// status (0: no answer — offline, a dropped connection, aborted), `code` and `message` the
// server's JSON error when it gave one, `transient` whether the same call may work later.

const TUS = { 'Tus-Resumable': '1.0.0' };

export class UploadError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = 'UploadError';
    this.status = status;
    this.code = code;
  }

  /** Worth retrying as is: no answer, a server-side hiccup, or the upload busy or moved on
   * (409/423: ask the offset again). Not a refusal (413, 429, 507…) or a cancel. */
  get transient() {
    if (this.status === 0) return this.code !== 'aborted';
    if (this.status === 507) return false;
    return this.status >= 500 || [408, 409, 423].includes(this.status);
  }
}

async function failure(resp) {
  let code = `http_${resp.status}`;
  let message = `The server answered ${resp.status}.`;
  try {
    const body = await resp.json();
    if (typeof body.error === 'string') code = body.error;
    if (typeof body.message === 'string') message = body.message;
  } catch {
    // not JSON: keep the status
  }
  return new UploadError(resp.status, code, message);
}

async function call(url, init) {
  let resp;
  try {
    resp = await fetch(url, { credentials: 'same-origin', ...init, headers: { ...TUS, ...(init.headers ?? {}) } });
  } catch (err) {
    throw new UploadError(0, 'offline', err?.message || 'No connection to the server.');
  }
  if (!resp.ok) throw await failure(resp);
  return resp;
}

function base64(text) {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** POST /api/uploads: a new upload of `size` bytes named `name`; resolves with its URL. */
export async function createUpload({ size, name }) {
  const resp = await call('/api/uploads', {
    method: 'POST',
    headers: { 'Upload-Length': String(size), 'Upload-Metadata': `filename ${base64(name)}` },
  });
  const location = resp.headers.get('Location');
  if (!location) throw new UploadError(resp.status, 'bad_answer', 'The server did not say where the upload goes.');
  return location;
}

/** HEAD: how many bytes of the upload the server holds. */
export async function uploadOffset(url) {
  const resp = await call(url, { method: 'HEAD', cache: 'no-store' });
  const offset = Number(resp.headers.get('Upload-Offset'));
  if (!Number.isSafeInteger(offset)) throw new UploadError(resp.status, 'bad_answer', 'No Upload-Offset.');
  return offset;
}

/**
 * PATCH the bytes of `blob` from `offset` on; resolves with the server's new offset.
 * @param {{onProgress?: (sent: number) => void, signal?: AbortSignal}} opts onProgress gets the
 *   bytes of this request sent so far
 */
export function sendBytes(url, blob, offset, { onProgress, signal } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PATCH', url);
    xhr.withCredentials = true;
    xhr.setRequestHeader('Tus-Resumable', '1.0.0');
    xhr.setRequestHeader('Upload-Offset', String(offset));
    xhr.setRequestHeader('Content-Type', 'application/offset+octet-stream');
    xhr.upload.onprogress = (ev) => onProgress?.(ev.loaded);
    xhr.onload = () => {
      if (xhr.status === 204) {
        resolve(Number(xhr.getResponseHeader('Upload-Offset')));
        return;
      }
      let code = `http_${xhr.status}`;
      let message = `The server answered ${xhr.status}.`;
      try {
        const body = JSON.parse(xhr.responseText);
        code = body.error ?? code;
        message = body.message ?? message;
      } catch {
        // not JSON
      }
      reject(new UploadError(xhr.status, code, message));
    };
    xhr.onerror = () => reject(new UploadError(0, 'offline', 'The connection to the server was lost.'));
    xhr.onabort = () => reject(new UploadError(0, 'aborted', 'The upload was cancelled.'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(blob.slice(offset));
  });
}

/** GET the upload's state; once complete, `file` is the File messages carry. */
export async function uploadInfo(url) {
  return (await call(url, { method: 'GET', cache: 'no-store', headers: { Accept: 'application/json' } })).json();
}

/** DELETE: cancel an upload no message carries yet. */
export async function cancelUpload(url) {
  await call(url, { method: 'DELETE' });
}

/** The transport the upload model is given (model/uploads.js). */
export const tusTransport = { createUpload, uploadOffset, sendBytes, uploadInfo, cancelUpload };
