import crypto from 'node:crypto';

/**
 * Argo CD's bearer tokens: HS256 JWTs it signs itself, with `sub` naming the account and the
 * capability (`admin:login` for a session, `admin:apiKey` for an API token). Each simulator signs
 * with its own secret, so a token of one instance is refused by another.
 */

const base64url = (value: string | Buffer) =>
  Buffer.from(value).toString('base64url');

/** Argo CD only reads a bearer token that has a JWT's three parts (`jwtutil.IsValid`). */
export const looksLikeJwt = (token: string) => token.split('.').length === 3;

export type TokenCheck =
  | { valid: true; subject: string }
  | { valid: false; reason: string };

/** Issues and checks the tokens of one simulator. */
export class TokenIssuer {
  private readonly secret = crypto.randomBytes(32);

  /** A token for `subject`; a session expires after a day, as Argo CD's default does. */
  issue(subject: string, lifetimeSeconds?: number): string {
    const now = Math.floor(Date.now() / 1000);
    const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const payload = base64url(
      JSON.stringify({
        iss: 'argocd',
        sub: subject,
        nbf: now,
        iat: now,
        ...(lifetimeSeconds ? { exp: now + lifetimeSeconds } : {}),
        jti: crypto.randomUUID(),
      }),
    );
    return `${header}.${payload}.${this.sign(`${header}.${payload}`)}`;
  }

  /** Whether this instance signed the token and it has not expired, in Argo CD's words if not. */
  check(token: string): TokenCheck {
    const [header, payload, signature] = token.split('.');
    const expected = this.sign(`${header}.${payload}`);
    if (
      signature === undefined ||
      signature.length !== expected.length ||
      !crypto.timingSafeEqual(Buffer.from(signature), Buffer.from(expected))
    )
      return {
        valid: false,
        reason: 'token signature is invalid: signature is invalid',
      };
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    if (claims.exp && claims.exp * 1000 < Date.now())
      return {
        valid: false,
        reason: 'token has invalid claims: token is expired',
      };
    return { valid: true, subject: String(claims.sub) };
  }

  private sign(content: string): string {
    return crypto
      .createHmac('sha256', this.secret)
      .update(content)
      .digest('base64url');
  }
}
