/**
 * Looks for secrets where none may be (docs/contracts.md, "Keys, signing, retries": never
 * logged, never in an error): master keys, the signatures the vendor received, and the
 * credentials answers returned (accessKeySecret, securityToken, privateKey), in log lines and
 * answer bodies. A success answer may hold its own credentials and nothing else secret.
 */

export type SecretKind = 'master key' | 'signature' | 'returned secret' | 'secret marker';

export interface Finding {
  where: string;
  kind: SecretKind;
  /** Where in the text, never the secret itself. */
  at: number;
}

/** Field names whose values an answer returns as secrets. */
const RETURNED_FIELDS = new Set(['accessKeySecret', 'securityToken', 'privateKey', 'tmpSecretKey', 'token']);

/**
 * Text that only ever occurs inside a secret: the simulator's STS secrets and tokens, and the
 * Authorization header of a signed request.
 */
const MARKERS = [
  'sim-sts-secret-',
  'sim-sts-token-',
  'sim-tc-secret-',
  'sim-tc-token-',
  'ACS3-HMAC-SHA256 Credential=',
  'TC3-HMAC-SHA256 Credential=',
];

const HEX_RUN = /[0-9a-fA-F]{40,}/g;
const BASE64_SIGNATURE = /[A-Za-z0-9+/]{27}=/g;
const STS_VALUE = /sim-(?:sts|tc)-(?:secret|token)-[A-Za-z0-9_-]+/g;

export class SecretScan {
  /** Few and fixed: master keys, UFile private keys. Searched for anywhere in a text. */
  private readonly literals = new Map<string, SecretKind>();
  /** Many: every STS secret and token returned. Found by their shape, then looked up. */
  private readonly returned = new Set<string>();
  private readonly signatures = new Set<string>();
  readonly findings: Finding[] = [];
  scanned = 0;

  addMasterKey(value: string): void {
    this.literals.set(value, 'master key');
  }

  /** The secret values in a success answer's `data`; remembered, and returned. */
  addReturned(data: unknown): string[] {
    const found: string[] = [];
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (value !== null && typeof value === 'object') {
        for (const [key, inner] of Object.entries(value)) {
          if (RETURNED_FIELDS.has(key) && typeof inner === 'string') found.push(inner);
          else walk(inner);
        }
      }
    };
    walk(data);
    for (const value of found) {
      if (value.startsWith('sim-sts-') || value.startsWith('sim-tc-')) this.returned.add(value);
      else this.literals.set(value, 'returned secret');
    }
    return found;
  }

  /** Every signature the vendor received (the simulator's call log). */
  addSignatures(calls: Iterable<{ signature?: string }>): void {
    for (const call of calls) {
      if (call.signature === undefined) continue;
      this.signatures.add(/^[0-9a-fA-F]+$/.test(call.signature) ? call.signature.toLowerCase() : call.signature);
    }
  }

  get counts() {
    return {
      masterKeys: [...this.literals.values()].filter((kind) => kind === 'master key').length,
      returnedSecrets: this.returned.size + [...this.literals.values()].filter((kind) => kind === 'returned secret').length,
      signatures: this.signatures.size,
    };
  }

  /** Records every secret in `text`. */
  scan(text: string, where: string): void {
    this.scanned++;
    for (const [literal, kind] of this.literals) {
      const at = text.indexOf(literal);
      if (at >= 0) this.findings.push({ where, kind, at });
    }
    for (const marker of MARKERS) {
      const at = text.indexOf(marker);
      if (at >= 0) this.findings.push({ where, kind: 'secret marker', at });
    }
    for (const match of text.matchAll(STS_VALUE)) {
      if (this.returned.has(match[0])) this.findings.push({ where, kind: 'returned secret', at: match.index });
    }
    for (const match of text.matchAll(HEX_RUN)) {
      const run = match[0].toLowerCase();
      for (const size of [40, 64]) {
        for (let i = 0; i + size <= run.length; i++) {
          if (this.signatures.has(run.slice(i, i + size))) this.findings.push({ where, kind: 'signature', at: match.index + i });
        }
      }
    }
    for (const match of text.matchAll(BASE64_SIGNATURE)) {
      if (this.signatures.has(match[0])) this.findings.push({ where, kind: 'signature', at: match.index });
    }
  }

  /** A success answer: its own returned secrets are allowed where they are; nothing else is. */
  scanSuccess(body: string, own: string[], where: string): void {
    let rest = body;
    for (const value of own) rest = rest.split(value).join('');
    this.scan(rest, where);
  }

  /** A summary that names where, never what. */
  report(limit = 10): string {
    const byKind = new Map<string, number>();
    for (const finding of this.findings) byKind.set(finding.kind, (byKind.get(finding.kind) ?? 0) + 1);
    const first = this.findings.slice(0, limit).map((f) => `${f.kind} in ${f.where} at ${f.at}`);
    return `${this.findings.length} found (${[...byKind].map(([kind, n]) => `${kind}: ${n}`).join(', ') || 'none'})${first.length > 0 ? `: ${first.join('; ')}` : ''}`;
  }
}
