import { createTwoFilesPatch } from 'diff';
import { secretProtection } from '../state/secrets';
import { maskPatchSecrets } from './maskPatchSecrets';

const protection = secretProtection(Buffer.from('key'));

describe('maskPatchSecrets', () => {
  it('hides secret values on changed and context lines, and below a secret key, keeping the version lines', () => {
    const before = [
      'image:',
      '  tag: 1.1.0',
      'db:',
      '  password: hunter2',
      '  url: postgres://shop:s3cret@db/shop',
      'apiKeys:',
      '  - key-one',
      '  - key-two',
      'certificate: |',
      '  plain',
      'args: ["--client-secret", "x"]',
      'flags: --password hunter4',
      '',
    ].join('\n');
    const after = before
      .replace('tag: 1.1.0', 'tag: 1.2.0')
      .replace('key-two', 'key-three');
    const patch = createTwoFilesPatch(
      'a/values.yaml',
      'b/values.yaml',
      before,
      after,
    );
    const masked = maskPatchSecrets(patch, protection);
    for (const secret of [
      'hunter2',
      's3cret',
      'key-one',
      'key-two',
      'key-three',
      'hunter4',
    ]) {
      expect(patch).toContain(secret);
      expect(masked).not.toContain(secret);
    }
    const lines = masked.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        '-  tag: 1.1.0',
        '+  tag: 1.2.0',
        '   password: ••••••',
        '   url: ••••••',
        ' apiKeys:',
        '   ••••••',
        '-  ••••••',
        '+  ••••••',
        ' flags: ••••••',
        ' certificate: |',
        '   plain',
      ]),
    );
    // The file names and hunk headers are left as they are.
    expect(lines.slice(0, 4)).toEqual(patch.split('\n').slice(0, 4));
  });
});
