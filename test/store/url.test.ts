// Store URLs as shown in errors, banners and readiness answers: never with their password,
// however it is spelt (unescaped characters WHATWG URL reads as the end of the host included).
import { describe, expect, it } from 'vitest';
import { redactMessage, redactUrl } from '../../src/store/url.js';

describe('redactUrl', () => {
  it.each([
    ['postgres://gateway:s3cret-pw@db.internal:5432/gateway?schema=lxg', 'postgres://gateway:***@db.internal:5432/gateway?schema=lxg'],
    ['postgres://gateway:p%40ss-word@db.internal/gateway', 'postgres://gateway:***@db.internal/gateway'],
    ['redis://:cache-secret@cache.internal:6379', 'redis://:***@cache.internal:6379'],
    // Not escaped: WHATWG URL cannot read these (or reads the password as a port and a path).
    ['postgres://gateway:se#cret-pw@db.internal/gateway', 'postgres://gateway:***@db.internal/gateway'],
    ['postgres://gateway:se/cret-pw@db.internal/gateway', 'postgres://gateway:***@db.internal/gateway'],
    ['postgres://gateway:se?cret-pw@db.internal/gateway', 'postgres://gateway:***@db.internal/gateway'],
    ['postgres://gateway:5432/cret-pw@db.internal/gateway', 'postgres://gateway:***@db.internal/gateway'],
  ])('%s is shown as %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });

  it.each(['postgres://gateway@db.internal/gateway', 'postgres://db.internal:5432/gateway', 'sqlite:./.data/gateway.db', 'sqlite::memory:'])(
    'leaves %s as it is (no password)',
    (url) => {
      expect(redactUrl(url)).toBe(url);
    },
  );
});

describe('redactMessage', () => {
  it('takes the password out of a message, raw or percent-encoded, even from a URL WHATWG cannot read', () => {
    const url = 'postgres://gateway:se#cret-pw@db.internal/gateway';
    expect(redactMessage(`cannot open ${url}: password se#cret-pw refused`, url)).toBe(
      'cannot open postgres://gateway:***@db.internal/gateway: password *** refused',
    );
    const encoded = 'postgres://gateway:p%40ss-word@db.internal/gateway';
    expect(redactMessage('p@ss-word and p%40ss-word', encoded)).toBe('*** and ***');
  });
});
