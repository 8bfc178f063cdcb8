import { secretLooking, SecretProtection } from '../state/secrets';

/** What a hidden value is shown as. */
export const HIDDEN_VALUE = '••••••';

const indentOf = (text: string) => text.length - text.trimStart().length;

/**
 * A unified diff with the value of every secret-looking line hidden: a line with a secret key or
 * a value that gives itself away (`password: ...`, `db.password=...`, a URL with a password), and
 * the lines nested below a secret key with no value of its own (`password: |`, `apiKeys:`).
 * Other lines, the version lines among them, are left as they are.
 */
export function maskPatchSecrets(
  patch: string,
  protection: SecretProtection,
): string {
  const looking = secretLooking(protection);
  let inHunk = false;
  // The indentation of the secret key whose nested lines are being hidden.
  let secretIndent: number | undefined;
  return patch
    .split('\n')
    .map(line => {
      if (line.startsWith('@@')) {
        inHunk = true;
        secretIndent = undefined;
        return line;
      }
      if (line.startsWith('===') || line.startsWith('Index: ')) {
        inHunk = false;
        return line;
      }
      if (!inHunk || !/^[ +-]/.test(line)) return line;
      const sign = line[0];
      const content = line.slice(1);
      const indent = indentOf(content);
      if (content.trim() === '') return line;
      if (secretIndent !== undefined) {
        if (indent > secretIndent) {
          return `${sign}${content.slice(0, indent)}${HIDDEN_VALUE}`;
        }
        secretIndent = undefined;
      }
      if (!looking.text(content)) return line;
      const separator = content.search(/[:=]/);
      if (separator < 0)
        return `${sign}${content.slice(0, indent)}${HIDDEN_VALUE}`;
      const value = content.slice(separator + 1).trim();
      if (/^([|>][-+0-9]*)?(\s+#.*)?$/.test(value)) {
        // The value is on the lines below: each of them is hidden.
        secretIndent = indent;
        return line;
      }
      const space = content[separator] === ':' ? ' ' : '';
      return `${sign}${content.slice(0, separator + 1)}${space}${HIDDEN_VALUE}`;
    })
    .join('\n');
}
