// Building DOM without HTML strings: user content only ever becomes text nodes or attribute
// values set through the DOM API, so it cannot turn into markup or script. No innerHTML
// anywhere in the client (tests/browser/test_chat_content.py checks the result,
// client_web/tests/safety.test.js the code).

const FORBIDDEN = new Set(['style', 'srcdoc', 'innerHTML', 'outerHTML']);

/**
 * Create an element.
 * @param {string} tag
 * @param {object} [props] class, text, hidden, dataset, on<event> handlers, other attributes
 *   (strings; `style` and on* attributes are refused: the CSP forbids them anyway)
 * @param {...(Node|string|null|false|Array)} children strings become text nodes
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'hidden') el.hidden = true;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (FORBIDDEN.has(k) || k.startsWith('on')) throw new Error(`h(): refusing attribute ${k}`);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** document.getElementById that fails loudly: a missing element is a bug in index.html. */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el;
}

/** The "#" of a public channel or the lock of a private one (an icon, not an emoji font). */
export function channelIcon(isPrivate) {
  return isPrivate
    ? h('span', { class: 'chan-icon icon icon-lock', 'aria-hidden': 'true' })
    : h('span', { class: 'chan-icon', 'aria-hidden': 'true' }, '#');
}

/** Replace all children of `el`. */
export function replaceChildren(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** Longest a render waits for an animation frame: some engines (and hidden or occluded windows)
 * deliver frames late or not at all, and a message must still appear promptly. */
const FRAME_FALLBACK_MS = 50;

/** Run `fn` at most once per frame, however often schedule() is called before it runs. */
export function frameScheduler(fn) {
  let queued = false;
  let timer = null;
  let frame = null;
  const run = () => {
    if (!queued) return;
    queued = false;
    clearTimeout(timer);
    if (frame !== null && typeof cancelAnimationFrame === 'function') cancelAnimationFrame(frame);
    frame = null;
    fn();
  };
  return function schedule() {
    if (queued) return;
    queued = true;
    if (typeof requestAnimationFrame === 'function') frame = requestAnimationFrame(run);
    timer = setTimeout(run, FRAME_FALLBACK_MS);
  };
}
