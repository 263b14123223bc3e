// The HTTP account API the chat page uses (log in again, log out): JSON over fetch, with the
// session cookie (same origin). The responses are the callers' to read.

const JSON_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json' };

/** POST /api/login; resolves with the Response, rejects if the server cannot be reached. */
export function logIn(username, password) {
  return fetch('/api/login', { method: 'POST', credentials: 'same-origin', headers: JSON_HEADERS, body: JSON.stringify({ username, password }) });
}

/** POST /api/logout (the session cookie is cleared). */
export function logOut() {
  return fetch('/api/logout', { method: 'POST', credentials: 'same-origin', headers: { Accept: 'application/json' } });
}
