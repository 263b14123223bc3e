// The HTTP account API the chat page uses (docs/accounts.md): log in again, log out, my display
// name and password, my sessions. JSON over fetch, with the session cookie (same origin).

const JSON_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json' };

/** POST /api/login; resolves with the Response, rejects if the server cannot be reached. */
export function logIn(username, password) {
  return fetch('/api/login', { method: 'POST', credentials: 'same-origin', headers: JSON_HEADERS, body: JSON.stringify({ username, password }) });
}

/** POST /api/logout (the session cookie is cleared). */
export function logOut() {
  return fetch('/api/logout', { method: 'POST', credentials: 'same-origin', headers: { Accept: 'application/json' } });
}

/** An API call that answered with an error: its `error` code and human `message`. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `The server answered ${status}.`);
    this.name = 'ApiError';
    this.status = status;
    this.code = body?.error ?? 'error';
    this.field = body?.field;
  }
}

async function call(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: body === undefined ? { Accept: 'application/json' } : JSON_HEADERS };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(path, init);
  const json = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, json);
  return json;
}

/** GET /api/me: {user: {id, username, display_name, is_admin}, session}. */
export const me = () => call('GET', '/api/me');
/** PATCH /api/me: a new display name (others see it live). */
export const setDisplayName = (displayName) => call('PATCH', '/api/me', { display_name: displayName });
/** POST /api/password: every other session ends. */
export const changePassword = (current, next) => call('POST', '/api/password', { current, new: next });
/** GET /api/sessions: my valid sessions, most recently used first. */
export const sessions = () => call('GET', '/api/sessions');
/** DELETE /api/sessions/<id>. */
export const endSession = (id) => call('DELETE', `/api/sessions/${encodeURIComponent(id)}`);
/** POST /api/sessions/revoke-all: every session but this one. */
export const endOtherSessions = () => call('POST', '/api/sessions/revoke-all', {});
