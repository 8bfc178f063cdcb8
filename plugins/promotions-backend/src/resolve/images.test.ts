import { displayVersion, formatImage, imageMatches, parseImage } from './images';

describe('image references', () => {
  it.each([
    ['nginx', { name: 'nginx', tag: null, digest: null }],
    ['nginx:1.25', { name: 'nginx', tag: '1.25', digest: null }],
    ['registry.local:5000/team/app', { name: 'registry.local:5000/team/app', tag: null, digest: null }],
    ['registry.local:5000/team/app:2.0', { name: 'registry.local:5000/team/app', tag: '2.0', digest: null }],
    [`ghcr.io/acme/app:1.4.2@sha256:${'b'.repeat(64)}`, { name: 'ghcr.io/acme/app', tag: '1.4.2', digest: `sha256:${'b'.repeat(64)}` }],
    [`ghcr.io/acme/app@sha256:${'c'.repeat(64)}`, { name: 'ghcr.io/acme/app', tag: null, digest: `sha256:${'c'.repeat(64)}` }],
  ])('parses %s', (reference, expected) => {
    expect(parseImage(reference)).toEqual(expected);
    expect(formatImage(parseImage(reference))).toBe(reference);
  });

  it('shows the tag, else the short digest', () => {
    expect(displayVersion({ name: 'a', tag: '1.0', digest: 'sha256:abc' })).toBe('1.0');
    expect(displayVersion({ name: 'a', tag: null, digest: `sha256:${'d'.repeat(64)}` })).toBe('sha256:dddddddddddd');
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
