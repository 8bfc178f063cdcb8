import {
  gitUrlHasCredentials,
  gitUrlWithoutCredentials,
} from './gitUrlCredentials';

describe('gitUrlWithoutCredentials', () => {
  it.each([
    [
      'https://x-access-token:ghs_secret@github.com/acme/gitops.git',
      'https://github.com/acme/gitops.git',
    ],
    [
      'https://ghp_secret@github.com/acme/gitops.git',
      'https://github.com/acme/gitops.git',
    ],
    [
      'ssh://git:secret@mirror.acme.example/acme/gitops.git',
      'ssh://git@mirror.acme.example/acme/gitops.git',
    ],
    [
      'https://github.com/acme/gitops.git?access_token=ghs_secret',
      'https://github.com/acme/gitops.git',
    ],
    [
      'https://github.com/acme/gitops.git?',
      'https://github.com/acme/gitops.git',
    ],
    [
      'https://github.com/acme/gitops.git#ghs_secret',
      'https://github.com/acme/gitops.git',
    ],
  ])('takes the secret out of %s', (url, expected) => {
    expect(gitUrlWithoutCredentials(url)).toBe(expected);
    expect(gitUrlHasCredentials(url)).toBe(true);
    expect(gitUrlWithoutCredentials(url)).not.toMatch(/secret|[?#]/);
  });

  it.each([
    'https://github.com/acme/gitops.git',
    'ssh://git@github.com/acme/gitops.git',
    'git@github.com:acme/gitops.git',
    '/srv/gitops',
    './gitops',
  ])('leaves %s as it is', url => {
    expect(gitUrlWithoutCredentials(url)).toBe(url);
    expect(gitUrlHasCredentials(url)).toBe(false);
  });
});
