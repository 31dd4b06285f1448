/**
 * Config text tidemark prints or writes for a person to paste: string literals of the config's own
 * language (JavaScript/TypeScript or JSON), escaped so that any value — an owns entry holding `'`,
 * `\`, `"`, a line break or a control character — reads back as exactly the same string.
 */

/** A JavaScript string literal in quote `q`: backslash, the quote, line terminators and control characters escaped. */
export function jsString(value: string, q: "'" | '"' = "'"): string {
  let out = q;
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\' || ch === q) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    // C0, DEL, C1, the two line terminators JavaScript source knows besides \n and \r, and lone surrogates.
    else if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else if (code === 0x2028 || code === 0x2029 || (code >= 0xd800 && code <= 0xdfff)) out += `\\u${code.toString(16)}`;
    else out += ch;
  }
  return out + q;
}

export interface ServiceEntry {
  name: string;
  /** The migrations directory as the config writes it (relative, `/`-separated). */
  migrations: string;
  owns: readonly string[];
  requires: readonly string[];
}

/**
 * One service's entry as a line to paste into `services` of a config written in `language`
 * (`json` for tidemark.config.json, else a JavaScript object literal). Entries are written as they
 * are (they are already in the owns grammar), only escaped as strings of that language.
 */
export function serviceEntryText(entry: ServiceEntry, language: 'js' | 'json'): string {
  const str = language === 'json' ? (s: string) => JSON.stringify(s) : (s: string) => jsString(s);
  const key = language === 'json' || !/^[A-Za-z_$][\w$]*$/.test(entry.name) ? str(entry.name) : entry.name;
  const prop = (k: string) => (language === 'json' ? `"${k}"` : k);
  const list = (values: readonly string[]) => `[${values.map(str).join(', ')}]`;
  const requires = entry.requires.length ? `, ${prop('requires')}: ${list(entry.requires)}` : '';
  return `${key}: { ${prop('migrations')}: ${str(entry.migrations)}, ${prop('owns')}: ${list(entry.owns)}${requires} }`;
}
