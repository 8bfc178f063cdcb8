import { MAX_NOTES, resolutionNotes } from './notes';

describe('resolutionNotes', () => {
  it('says what was not read, naming the file after it', () => {
    expect(
      resolutionNotes([
        'services/x/overlays/prod/kustomization.yaml: not read: vars',
        'services/x/overlays/prod/kustomization.yaml: not read: remote resource "https://example.com/a.yaml"',
        'services/x/overlays/prod/kustomization.yaml: patch target (kind=Job) matches no resource',
      ]),
    ).toEqual([
      'Not read: vars (services/x/overlays/prod/kustomization.yaml)',
      'Not read: remote resource "https://example.com/a.yaml" (services/x/overlays/prod/kustomization.yaml)',
      'Patch target (kind=Job) matches no resource (services/x/overlays/prod/kustomization.yaml)',
    ]);
  });

  it('says each thing once, and how many more there were beyond the first few', () => {
    const warnings = Array.from(
      { length: 50 },
      (_, i) => `base/kustomization.yaml: not read: remote resource "r${i}"`,
    );
    const notes = resolutionNotes([...warnings, ...warnings]);
    expect(notes).toHaveLength(MAX_NOTES);
    expect(notes[0]).toBe(
      'Not read: remote resource "r0" (base/kustomization.yaml)',
    );
    expect(notes[MAX_NOTES - 1]).toBe(`…and ${50 - (MAX_NOTES - 1)} more`);
    expect(resolutionNotes([])).toEqual([]);
  });

  it('cuts a huge field name or path from a repository file to a few hundred characters', () => {
    const huge = 'x'.repeat(10_000);
    const [note] = resolutionNotes([
      `${'d/'.repeat(
        5_000,
      )}kustomization.yaml: not read: remote resource "${huge}"`,
    ]);
    expect(note.length).toBeLessThan(500);
    expect(note).toMatch(/^Not read: remote resource "x+… \(d\/d\/.*…\)$/);
    // A cut never leaves half a surrogate pair behind.
    const [emoji] = resolutionNotes([`k.yaml: not read: ${'😀'.repeat(500)}`]);
    expect(emoji).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });
});
