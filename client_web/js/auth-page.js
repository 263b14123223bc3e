// The log-in and registration pages (and the placeholder home page): forms that speak JSON to
// /api/login and /api/register, show each field's error next to it, then go on to the app.
// Loaded as an ES module; no inline script or style anywhere (the CSP forbids them).

import { ErrorCode } from "./net/codes.js";

const FIELDS = ["username", "display_name", "password", "invite"];

/** Where to go after logging in: the `next` parameter if it is a local path, else "/". */
export function nextTarget(search) {
  const next = new URLSearchParams(search).get("next");
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  if ([...next].some((ch) => ch < " " || ch === "\\")) return "/";
  return next;
}

async function sendJSON(method, url, body) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(url, init);
  let data = null;
  try {
    data = await resp.json();
  } catch {
    data = null;
  }
  return { resp, data };
}

function el(id) {
  return document.getElementById(id);
}

function clearErrors(form) {
  el("form-error").hidden = true;
  for (const name of FIELDS) {
    const input = form.elements.namedItem(name);
    const slot = el(`${name}-error`);
    if (input) input.removeAttribute("aria-invalid");
    if (slot) {
      slot.hidden = true;
      slot.textContent = "";
    }
  }
}

function showFormError(message) {
  const slot = el("form-error");
  slot.textContent = message;
  slot.hidden = false;
}

/** Show the server's errors: each next to its field, anything else above the form. */
function showErrors(form, resp, data) {
  if (!data || typeof data.error !== "string") {
    showFormError(`Something went wrong (HTTP ${resp.status}). Try again.`);
    return;
  }
  if (data.error === ErrorCode.RATE_LIMITED) {
    const secs = Number(resp.headers.get("Retry-After")) || 1;
    showFormError(`Too many failed attempts. Try again in ${secs} second${secs === 1 ? "" : "s"}.`);
    return;
  }
  const errors = Array.isArray(data.errors) ? data.errors : [data];
  let first = null;
  for (const err of errors) {
    const input = err.field ? form.elements.namedItem(err.field) : null;
    const slot = err.field ? el(`${err.field}-error`) : null;
    if (input && slot && !input.closest("[hidden]")) {
      slot.textContent = err.message;
      slot.hidden = false;
      input.setAttribute("aria-invalid", "true");
      first = first || input;
    } else {
      showFormError(err.message);
    }
  }
  if (first) first.focus();
}

function formBody(form, names) {
  const body = {};
  for (const name of names) {
    const input = form.elements.namedItem(name);
    if (input && !input.closest("[hidden]")) body[name] = input.value;
  }
  return body;
}

function setupForm(url, names) {
  const form = el("auth-form");
  const button = form.querySelector("button[type=submit]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    button.disabled = true;
    try {
      const { resp, data } = await sendJSON("POST", url, formBody(form, names));
      if (resp.ok) {
        location.assign(nextTarget(location.search));
        return;
      }
      showErrors(form, resp, data);
    } catch {
      showFormError("Cannot reach the server. Check your connection and try again.");
    } finally {
      button.disabled = false;
    }
  });
}

async function setupRegister() {
  setupForm("/api/register", ["username", "display_name", "password", "invite"]);
  try {
    const { resp, data } = await sendJSON("GET", "/api/registration");
    if (!resp.ok || !data) return;
    if (data.mode === "invite") {
      el("invite-field").hidden = false;
      const code = new URLSearchParams(location.search).get("invite");
      if (code) el("invite").value = code;
    } else if (data.mode === "closed") {
      el("closed-notice").hidden = false;
      el("auth-form").hidden = true;
    }
  } catch {
    // The form still works; the server answers invite_required if a code is needed.
  }
}

async function setupHome() {
  const { resp, data } = await sendJSON("GET", "/api/me");
  if (!resp.ok) {
    location.assign("/login");
    return;
  }
  el("me-name").textContent = `${data.user.display_name} (@${data.user.username})`;
  el("logout").addEventListener("click", async () => {
    await sendJSON("POST", "/api/logout");
    location.assign("/login");
  });
}

const page = typeof document !== "undefined" ? document.body.dataset.page : null;
if (page === "login") setupForm("/api/login", ["username", "password"]);
else if (page === "register") setupRegister();
else if (page === "home") setupHome();
