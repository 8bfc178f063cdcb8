import { hasControlCharacter } from '@gitops-promotions/plugin-promotions-common';

/** Checks on what people type into the template, each returning a reason or undefined. */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const IMAGE_REPOSITORY =
  /^(([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*(:[0-9]+)?\/)?[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*(\/[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*)*$/;
const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const CPU = /^(\d+(\.\d+)?|\d+m)$/;
const MEMORY = /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|K|M|G|T)?$/;

export function dnsLabelProblem(
  what: string,
  value: string,
): string | undefined {
  if (value.length > 63 || !DNS_LABEL.test(value)) {
    return `${what} "${value}" must be a Kubernetes DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters`;
  }
  return undefined;
}

export function imageRepositoryProblem(value: string): string | undefined {
  if (value.length > 255 || !IMAGE_REPOSITORY.test(value)) {
    return `image repository "${value}" is not a valid image name such as ghcr.io/acme/payment (no tag or digest)`;
  }
  return undefined;
}

export function imageTagProblem(value: string): string | undefined {
  if (!IMAGE_TAG.test(value)) {
    return `image tag "${value}" is not valid: letters, digits, "_", "." and "-", at most 128, not starting with "." or "-"`;
  }
  return undefined;
}

export function quantityProblem(
  what: string,
  value: string,
  kind: 'cpu' | 'memory',
): string | undefined {
  if (!(kind === 'cpu' ? CPU : MEMORY).test(value)) {
    return kind === 'cpu'
      ? `${what} "${value}" is not a CPU quantity such as 250m or 1`
      : `${what} "${value}" is not a memory quantity such as 256Mi or 1Gi`;
  }
  return undefined;
}

export function clusterUrlProblem(
  what: string,
  value: string,
): string | undefined {
  // The URL parser drops tabs and newlines where a YAML reader or Argo CD would not.
  if (/\s/.test(value) || hasControlCharacter(value)) {
    return `${what} ${JSON.stringify(
      value,
    )} contains spaces or control characters`;
  }
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:')
      return `${what} "${value}" must be an https URL`;
    return undefined;
  } catch {
    return `${what} "${value}" is not a URL`;
  }
}

/** A string a form may not have let through: control characters go into no file or command. */
export function controlCharacterProblem(
  what: string,
  value: unknown,
): string | undefined {
  if (typeof value === 'string' && hasControlCharacter(value)) {
    return `${what} ${JSON.stringify(value)} contains control characters`;
  }
  return undefined;
}

/** An owner as the catalog writes it: `team`, `group:team` or `group:namespace/team`. */
export function ownerProblem(value: string): string | undefined {
  if (!/^([a-zA-Z]+:)?([a-z0-9-]+\/)?[A-Za-z0-9._-]{1,63}$/.test(value)) {
    return `owner "${value}" is not an entity reference such as group:default/shop-team`;
  }
  return undefined;
}
