/**
 * Redaction: every password a connection string or a message can carry, hidden before anything is
 * printed. Apart from db/url.ts so that printing (cli/output.ts, loaded by every command) does not load
 * the URL parser and its dependency.
 */
/**
 * Hides every password a connection string can carry, and cannot leave a piece of one behind:
 *
 * - userinfo: from the first `:` after `scheme://` up to the LAST `@` of the whole string. A raw `@`,
 *   `/`, `?`, `#` or `%` in the password (or a raw `/` in the user name) therefore stays inside the
 *   hidden part; the price is that a `:` and an `@` both in the query hide more than a password;
 * - any `…password=` key (any case, percent-encoded or not, `sslpassword` too, query or libpq
 *   `key=value` style): everything after its `=` up to the end of the string, since an unencoded `&`
 *   may be part of the password.
 *
 * `pglite:` URLs are paths and are left as written.
 */
export function redactUrl(url: string): string {
  if (/^pglite:/i.test(url)) return url;
  // Both hidden ranges are found on the original text, then merged: a password may hold the other's
  // delimiter (an `@` inside `?password=`, a `password=` inside the userinfo).
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url);
  const start = scheme ? scheme[0].length : 0;
  const colon = url.indexOf(':', start);
  const lastAt = url.lastIndexOf('@');
  const key = passwordKeyEnd(url);
  const ranges: Array<[number, number]> = [];
  if (colon >= 0 && lastAt > colon) ranges.push([colon + 1, lastAt]);
  if (key !== undefined) ranges.push([key + 1, url.length]);
  ranges.sort((x, y) => x[0] - y[0]);
  if (ranges.length === 2 && ranges[0][1] >= ranges[1][0]) ranges.splice(0, 2, [ranges[0][0], Math.max(ranges[0][1], ranges[1][1])]);
  let out = '';
  let at = 0;
  for (const [from, to] of ranges) {
    out += `${url.slice(at, from)}***`;
    at = to;
  }
  return out + url.slice(at);
}

/**
 * Free text of unknown origin (a message from below tidemark, a stack trace) with the password of every URL in it
 * and every `password=` value hidden. tidemark's own messages redact their URLs when they are made; this is the
 * safety net for the rest.
 */
export function redactSecrets(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s'"`<>]+/gi, (url) => redactUrl(url)).replace(/(password\s*=\s*)('[^']*'|"[^"]*"|[^\s&;'"]+)/gi, (_m, key: string) => `${key}***`);
}

/** The index of the `=` after the first `…password` key (any case, percent-encoded or not), if any. */
function passwordKeyEnd(text: string): number | undefined {
  for (let eq = text.indexOf('='); eq >= 0; eq = text.indexOf('=', eq + 1)) {
    let end = eq;
    while (end > 0 && /\s/.test(text[end - 1])) end--;
    let begin = end;
    while (begin > 0 && !/[\s?&;#/=:@]/.test(text[begin - 1])) begin--;
    if (looseDecode(text.slice(begin, end)).toLowerCase().trim().endsWith('password')) return eq;
  }
  return undefined;
}

function looseDecode(s: string): string {
  return s.replace(/\+/g, ' ').replace(/%([0-9a-f]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}
