// Links in message text: only http(s), trailing punctuation left out, text preserved exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { linkify, safeHref } from '../js/model/linkify.js';

const links = (s) => linkify(s).filter((x) => x.type === 'link').map((x) => [x.text, x.href]);
const roundTrip = (s) => linkify(s).map((x) => x.text).join('');

test('plain text stays one text segment', () => {
  assert.deepEqual(linkify('hello world'), [{ type: 'text', text: 'hello world' }]);
  assert.deepEqual(linkify(''), []);
});

test('http, https and www links', () => {
  assert.deepEqual(links('see https://example.org/a?b=1#c now'), [['https://example.org/a?b=1#c', 'https://example.org/a?b=1#c']]);
  assert.deepEqual(links('http://x.test'), [['http://x.test', 'http://x.test/']]);
  assert.deepEqual(links('www.example.org/path'), [['www.example.org/path', 'https://www.example.org/path']]);
});

test('sentence punctuation after a link is not part of it', () => {
  assert.deepEqual(links('Go to https://example.org.'), [['https://example.org', 'https://example.org/']]);
  assert.deepEqual(links('(see https://example.org/x)'), [['https://example.org/x', 'https://example.org/x']]);
  assert.deepEqual(links('"https://example.org/q?a=1",'), [['https://example.org/q?a=1', 'https://example.org/q?a=1']]);
  assert.deepEqual(links('https://example.org/a!?'), [['https://example.org/a', 'https://example.org/a']]);
});

test('balanced brackets inside a link are kept', () => {
  assert.deepEqual(links('https://en.wikipedia.org/wiki/Foo_(bar) ok'), [
    ['https://en.wikipedia.org/wiki/Foo_(bar)', 'https://en.wikipedia.org/wiki/Foo_(bar)'],
  ]);
  assert.deepEqual(links('(https://en.wikipedia.org/wiki/Foo_(bar))'), [
    ['https://en.wikipedia.org/wiki/Foo_(bar)', 'https://en.wikipedia.org/wiki/Foo_(bar)'],
  ]);
});

test('dangerous schemes never become links', () => {
  for (const s of ['javascript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'file:///etc/passwd', 'vbscript:x', 'JaVaScRiPt:alert(1)']) {
    assert.deepEqual(links(s), [], s);
    assert.equal(roundTrip(s), s);
  }
  assert.equal(safeHref('javascript:alert(1)'), null);
  assert.equal(safeHref('https://'), null);
  assert.equal(safeHref('www.'), null);
});

test('a link with quotes or angle brackets stops there (no attribute break-out)', () => {
  assert.deepEqual(links('https://x.test/"onmouseover="alert(1)'), [['https://x.test/', 'https://x.test/']]);
  assert.deepEqual(links('<https://x.test/a>'), [['https://x.test/a', 'https://x.test/a']]);
});

test('non-ASCII hosts and paths work; the text is kept exactly', () => {
  const s = 'Schau: https://bücher.example/straße?q=ü — ok';
  assert.deepEqual(links(s)[0][0], 'https://bücher.example/straße?q=ü');
  assert.equal(roundTrip(s), s);
  assert.equal(roundTrip('a https://x.test b www.y.test c https://z.test.'), 'a https://x.test b www.y.test c https://z.test.');
});

test('several links and RTL text around them', () => {
  const s = 'שלום https://a.test ו https://b.test/x!';
  assert.deepEqual(links(s).map((l) => l[0]), ['https://a.test', 'https://b.test/x']);
  assert.equal(roundTrip(s), s);
});
