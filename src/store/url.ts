// Store URLs as they may be shown: in an error, a log line, a readiness answer, a banner.

/**
 * `scheme://user:` then everything up to the last `@`: the password as its writer meant it, also
 * when it holds an unescaped `/`, `#` or `?` that WHATWG URL reads as the end of the host (and then
 * finds no password, or no URL at all). May take in more than the password; never less.
 */
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/[^:@/]*:)([\s\S]*)@/i;

function passwordOf(url: string): string {
  try {
    const password = new URL(url).password;
    if (password !== '') return password;
  } catch {
    // not a URL WHATWG can read: the pattern below still finds the password
  }
  return USERINFO.exec(url)?.[2] ?? '';
}

/** The URL with any password replaced by `***`; what has none is returned as it is. */
export function redactUrl(url: string): string {
  if (passwordOf(url) === '') return url;
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') {
      parsed.password = '***';
      return parsed.toString();
    }
  } catch {
    // falls back to the pattern
  }
  return url.replace(USERINFO, '$1***@');
}

/** A message with every occurrence of the URL's password (raw or percent-encoded) replaced. */
export function redactMessage(message: string, url: string): string {
  const password = passwordOf(url);
  if (password === '') return message;
  let out = message.replaceAll(url, redactUrl(url)).replaceAll(password, '***');
  try {
    const decoded = decodeURIComponent(password);
    if (decoded !== '') out = out.replaceAll(decoded, '***');
  } catch {
    // not percent-encoded
  }
  return out;
}
