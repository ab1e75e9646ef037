// Store URLs as they may be shown: in an error, a log line, a readiness answer.

/** The URL with any password replaced by `***`; what is not a URL is returned as it is. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** A message with every occurrence of the URL's password (raw or percent-encoded) replaced. */
export function redactMessage(message: string, url: string): string {
  let password: string;
  try {
    password = new URL(url).password;
  } catch {
    return message;
  }
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
