// Building DOM without HTML strings: user content only ever becomes text nodes or attribute
// values set through the DOM API, so it cannot turn into markup or script. No innerHTML
// anywhere in the client (tests/browser/test_xss.py checks the result, grep checks the code).

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

/** Replace all children of `el`. */
export function replaceChildren(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** Run `fn` once per animation frame at most, however often schedule() is called. */
export function frameScheduler(fn) {
  let queued = false;
  return function schedule() {
    if (queued) return;
    queued = true;
    const run = () => {
      queued = false;
      fn();
    };
    if (typeof requestAnimationFrame === 'function' && document.visibilityState === 'visible') {
      requestAnimationFrame(run);
    } else {
      setTimeout(run, 0); // hidden tabs get no animation frames
    }
  };
}
