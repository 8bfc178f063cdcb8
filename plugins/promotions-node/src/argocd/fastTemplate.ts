import { GoTemplateError } from './goValues';

/**
 * Argo CD's default templating (`goTemplate` unset): each `{{ key }}` whose trimmed key names a
 * string parameter is replaced by it; any other tag stays as written, as valyala/fasttemplate
 * with Argo CD's callback does. Only a text with `{{` and a later `}}` on one line is templated
 * at all, and then a `{{` without its `}}` is an error.
 */
export function renderFastTemplate(
  text: string,
  parameters: Record<string, unknown>,
): string {
  if (!hasTagOnOneLine(text)) return text;
  let out = '';
  let position = 0;
  for (;;) {
    const start = text.indexOf('{{', position);
    if (start < 0) break;
    const end = text.indexOf('}}', start + 2);
    if (end < 0)
      throw new GoTemplateError(
        `invalid template: cannot find end tag "}}" in the template ${JSON.stringify(
          text.slice(0, 200),
        )}`,
      );
    out += text.slice(position, start);
    const tag = text.slice(start + 2, end);
    const key = tag.trim();
    const value = key === '' ? undefined : parameters[key];
    out +=
      typeof value === 'string' && Object.hasOwn(parameters, key)
        ? value
        : `{{${tag}}}`;
    position = end + 2;
  }
  return out + text.slice(position);
}

/** Go's `.*{{.*}}.*`: some line holds `{{` with a `}}` after it. */
function hasTagOnOneLine(text: string): boolean {
  return text.split('\n').some(line => {
    const open = line.indexOf('{{');
    return open >= 0 && line.indexOf('}}', open + 2) >= 0;
  });
}
