import {
  displayVersion,
  formatImage,
  imageMatches,
  parseImage,
} from './images';

const sha = (c: string) => `sha256:${c.repeat(64)}`;

describe('image references', () => {
  it.each([
    ['nginx', { name: 'nginx', tag: null, digest: null }],
    ['nginx:1.25', { name: 'nginx', tag: '1.25', digest: null }],
    [
      'registry.local:5000/team/app',
      { name: 'registry.local:5000/team/app', tag: null, digest: null },
    ],
    [
      'registry.local:5000/team/app:1.2',
      { name: 'registry.local:5000/team/app', tag: '1.2', digest: null },
    ],
    [
      `ghcr.io/acme/app:1.4.2@${sha('b')}`,
      { name: 'ghcr.io/acme/app', tag: '1.4.2', digest: sha('b') },
    ],
    [
      `ghcr.io/acme/app@${sha('c')}`,
      { name: 'ghcr.io/acme/app', tag: null, digest: sha('c') },
    ],
    [
      `registry.local:5000/app@${sha('d')}`,
      { name: 'registry.local:5000/app', tag: null, digest: sha('d') },
    ],
  ])('parses %s', (reference, expected) => {
    expect(parseImage(reference)).toEqual(expected);
    expect(formatImage(parseImage(reference))).toBe(reference);
  });

  it('shows the tag, else the short digest', () => {
    expect(displayVersion({ name: 'a', tag: '1.0', digest: sha('a') })).toBe(
      '1.0',
    );
    expect(
      displayVersion({
        name: 'a',
        tag: null,
        digest: `sha256:0123456789abcdef${'d'.repeat(48)}`,
      }),
    ).toBe('sha256:0123456789ab');
    expect(displayVersion({ name: 'a', tag: null, digest: null })).toBeNull();
  });

  it('matches an image by full name or by its last path segments', () => {
    const image = parseImage('ghcr.io/acme/orders:1.0');
    expect(imageMatches(image, 'ghcr.io/acme/orders')).toBe(true);
    expect(imageMatches(image, 'acme/orders')).toBe(true);
    expect(imageMatches(image, 'orders')).toBe(true);
    expect(imageMatches(image, 'ders')).toBe(false);
  });
});
