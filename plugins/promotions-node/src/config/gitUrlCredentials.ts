/**
 * Whether a Git URL carries credentials: a password, a user name on http(s), where it is a token
 * (`https://x-access-token:...@`, `https://<token>@`), or a query string or fragment, where
 * tokens are also passed (`?access_token=...`) and which no clone URL needs. ssh's `git@` names
 * no secret.
 *
 * @public
 */
export function gitUrlHasCredentials(url: string): boolean {
  return gitUrlWithoutCredentials(url) !== url;
}

/**
 * A Git URL without what may be a secret in it (see `gitUrlHasCredentials`): without its
 * password, its user name on http(s), its query string and its fragment; as given when it holds
 * none, or is not a URL (a local path, `git@host:owner/repo`).
 *
 * @public
 */
export function gitUrlWithoutCredentials(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  const web = parsed.protocol === 'https:' || parsed.protocol === 'http:';
  // A URL that does not end its authority (`file:`, a Windows path) is left as it is.
  if (!parsed.host && !web) return url;
  if (
    !parsed.password &&
    !(web && parsed.username) &&
    !parsed.search &&
    !parsed.hash &&
    !/[?#]/.test(url)
  ) {
    return url;
  }
  if (web) parsed.username = '';
  parsed.password = '';
  parsed.search = '';
  parsed.hash = '';
  return parsed.toString();
}
