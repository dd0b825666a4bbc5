/**
 * Secret values kept out of everything Gantry writes about an instance: health-check output,
 * failure evidence, log tails. Every value of the release is replaced by `***`, longest first so
 * one value inside another cannot leak its rest. Values under 3 characters are left alone: they
 * would blank out ordinary text (a secret that short protects nothing anyway).
 */
const MIN_LENGTH = 3;

export type Redact = (text: string) => string;

export const noRedaction: Redact = (text) => text;

export function secretRedactor(values: Iterable<string>): Redact {
  const known = [...new Set(values)]
    .filter((v) => v.length >= MIN_LENGTH)
    .sort((a, b) => b.length - a.length);
  if (known.length === 0) return noRedaction;
  return (text) => {
    let out = text;
    for (const v of known) if (out.includes(v)) out = out.split(v).join('***');
    return out;
  };
}
