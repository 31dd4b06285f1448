/** The guard's verdict as one line of text, for `status` and `check --db` (the fields: src/ledger/guard.ts ProtectionStatus). */
export interface ProtectionView {
  protected: boolean;
  marked: boolean;
  since?: string;
  by?: string;
  reasons: string[];
}

/** `yes: marked inside the database since 2026-12-04 14:28 UTC by alice@host; …` or `no: …`. */
export function describeProtection(p: ProtectionView): string {
  if (!p.protected) return 'no: reset, rebaseline and restore --replace run on it without asking (`tidemark protect` marks it)';
  const parts: string[] = [];
  if (p.marked) {
    const since = p.since ? ` since ${p.since.slice(0, 16).replace('T', ' ')} UTC` : '';
    parts.push(`marked inside the database (\`tidemark protect\`)${since}${p.by ? ` by ${p.by}` : ''}`);
  }
  parts.push(...p.reasons);
  return `yes: ${parts.join('; ')}; reset, rebaseline and restore --replace refuse it without --force-protected`;
}
