// Static checks of the client's source: no HTML-string APIs, nothing inline the CSP would block.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';

const dir = new URL('../js/', import.meta.url);
// Every module, in every folder (model/, views/, net/, …).
const sources = readdirSync(dir, { recursive: true })
  .filter((f) => f.endsWith('.js'))
  .map((f) => [f, readFileSync(new URL(f, dir), 'utf-8')]);
const html = ['index.html', 'login.html', 'register.html']
  .map((f) => [f, (() => { try { return readFileSync(new URL(`../${f}`, import.meta.url), 'utf-8'); } catch { return null; } })()])
  .filter(([, text]) => text !== null);

test('no script builds HTML from strings or evaluates code', () => {
  const banned = /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\s*\(|new Function\s*\(|setTimeout\(\s*['"`]|\.setAttribute\(\s*['"](style|on\w+)['"]/;
  for (const [name, text] of sources) {
    const code = text.replace(/^\s*\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
    const m = banned.exec(code);
    assert.equal(m, null, `${name}: ${m && m[0]}`);
  }
});

test('pages have no inline script, style or event handler (the CSP forbids them)', () => {
  assert.ok(html.length >= 1);
  for (const [name, raw] of html) {
    const text = raw.replace(/<!--[\s\S]*?-->/g, '');
    assert.doesNotMatch(text, /<script(?![^>]*\bsrc=)[^>]*>/i, `${name}: inline <script>`);
    assert.doesNotMatch(text, /<style[\s>]/i, `${name}: <style>`);
    assert.doesNotMatch(text, /\sstyle\s*=/i, `${name}: style attribute`);
    assert.doesNotMatch(text, /\son[a-z]+\s*=/i, `${name}: on* attribute`);
    assert.doesNotMatch(text, /javascript:/i, `${name}: javascript: URL`);
  }
});

test('every module the app imports is announced with modulepreload', () => {
  const index = readFileSync(new URL('../index.html', import.meta.url), 'utf-8');
  const preloaded = new Set([...index.matchAll(/rel="modulepreload" href="\/js\/([^"]+)"/g)].map((m) => m[1]));
  const seen = new Set();
  // Files as paths below js/; imports are relative to the importing file.
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const url = new URL(file, dir);
    const text = readFileSync(url, 'utf-8');
    for (const m of text.matchAll(/^import [^;]*? from '(\.{1,2}\/[^']+)';/gms)) {
      visit(new URL(m[1], url).href.slice(dir.href.length));
    }
  };
  visit('app.js');
  assert.ok(seen.size > 10, 'the import graph was followed into the folders');
  assert.deepEqual([...seen].filter((f) => !preloaded.has(f)), []);
  assert.deepEqual([...preloaded].filter((f) => !seen.has(f)), [], 'nothing preloaded that is not used');
});

// DESIGN.md §5a: model/ is state without DOM, views/ render, net/ is codec and connection,
// controllers/ connect them. The folders may only import downwards.
const ALLOWED_IMPORTS = {
  lib: [],
  net: ['lib/', 'net/'],
  model: ['lib/', 'model/', 'net/codes.js', 'net/ids.js', 'net/backoff.js'],
  views: ['lib/', 'model/', 'views/', 'net/codes.js'],
  controllers: ['lib/', 'model/', 'views/', 'net/', 'controllers/'],
};

test('each folder imports only the layers below it', () => {
  const wrong = [];
  for (const [file, text] of sources) {
    const folder = file.split('/')[0];
    const allowed = ALLOWED_IMPORTS[folder];
    if (!allowed) continue; // the pages' entry points (app.js, auth-page.js) may import anything
    for (const m of text.matchAll(/^import [^;]*? from '(\.{1,2}\/[^']+)';/gms)) {
      const target = new URL(m[1], new URL(file, dir)).href.slice(dir.href.length);
      if (!allowed.some((prefix) => target.startsWith(prefix))) wrong.push(`${file} imports ${target}`);
    }
  }
  assert.deepEqual(wrong, []);
  assert.ok(sources.some(([f]) => f.startsWith('model/')) && sources.some(([f]) => f.startsWith('views/')));
});

test('model/, net/ and lib/ never touch the DOM', () => {
  const dom = /\b(document|window|HTMLElement|Element|Node)\b\s*[.(]|\b(querySelector|getElementById|createElement|innerText|textContent)\b/;
  for (const [file, text] of sources) {
    if (!/^(model|net|lib)\//.test(file)) continue;
    const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/.*$/gm, '');
    const m = dom.exec(code);
    assert.equal(m, null, `${file}: ${m && m[0]}`);
  }
});
