/** At most this many notes are served per environment; the last then says how many were left out. */
export const MAX_NOTES = 20;
/** Each part of a note (what was skipped, and the file) is cut to this many characters. */
export const MAX_NOTE_PART = 200;

/** `text` cut to `max` characters with an ellipsis, never splitting a surrogate pair. */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

const capitalized = (text: string) =>
  text.charAt(0).toUpperCase() + text.slice(1);

/**
 * One resolver warning (`<file>: not read: <field>`, `<file>: patch target (…) matches no
 * resource`, …) as a sentence for a person with the file after it: `Not read: vars (<file>)`.
 * Both parts come from repository files, so each is cut to a few hundred characters.
 */
function noteOf(warning: string): string {
  const notRead = warning.indexOf(': not read: ');
  if (notRead >= 0) {
    const file = warning.slice(0, notRead);
    const what = warning.slice(notRead + ': not read: '.length);
    return `Not read: ${cut(what, MAX_NOTE_PART)} (${cut(
      file,
      MAX_NOTE_PART,
    )})`;
  }
  const colon = warning.indexOf(': ');
  if (colon > 0) {
    const file = warning.slice(0, colon);
    const what = warning.slice(colon + 2);
    return `${capitalized(cut(what, MAX_NOTE_PART))} (${cut(
      file,
      MAX_NOTE_PART,
    )})`;
  }
  return capitalized(cut(warning, MAX_NOTE_PART));
}

/**
 * What an environment's resolution skipped without failing, as the notes served with it: one
 * sentence each, in the order found, deduplicated, and at most {@link MAX_NOTES}, the last then
 * saying how many more there were.
 */
export function resolutionNotes(warnings: readonly string[]): string[] {
  const notes = [...new Set(warnings.map(noteOf))];
  if (notes.length <= MAX_NOTES) return notes;
  const kept = notes.slice(0, MAX_NOTES - 1);
  return [...kept, `…and ${notes.length - kept.length} more`];
}
