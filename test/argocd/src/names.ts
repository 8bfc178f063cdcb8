import crypto from 'node:crypto';

/** Names, ids and times shaped as Kubernetes makes them, derived from text so rebuilds keep them. */

// The alphabet of `rand.SafeEncodeString`, which names pod-template hashes and pod suffixes.
const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

const safeEncode = (text: string) =>
  Array.from(text, char => SAFE[char.charCodeAt(0) % SAFE.length]).join('');

/** A `pod-template-hash` label value: FNV-32a of the template, safe-encoded as Kubernetes does. */
export const podTemplateHash = (template: string) =>
  safeEncode(String(fnv32a(template)));

/** The five-character suffix of a pod name. */
export const podSuffix = (seed: string) =>
  safeEncode(crypto.createHash('sha256').update(seed).digest('hex')).slice(
    0,
    5,
  );

/** A UUID that stays the same for the same text. */
export function uidFor(text: string): string {
  const hex = crypto.createHash('sha1').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(
    13,
    16,
  )}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A Git commit id that stays the same for the same text. */
export const commitFor = (text: string) =>
  crypto.createHash('sha1').update(text).digest('hex');

/** A `sha256:` digest of text, as Helm and OCI registries write them. */
export const digest = (text: string) =>
  `sha256:${crypto.createHash('sha256').update(text).digest('hex')}`;

/** Kubernetes writes times in UTC to the second (`metav1.Time`). */
export const kubeTime = (time: Date | string = new Date()) =>
  new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A time some seconds before another, as Kubernetes writes it. */
export const secondsBefore = (time: string, seconds: number) =>
  kubeTime(new Date(new Date(time).getTime() - seconds * 1000));
