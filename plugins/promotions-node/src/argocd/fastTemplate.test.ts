import { renderFastTemplate } from './fastTemplate';

const params = {
  path: 'apps/payment',
  'path.basename': 'payment',
  'path[0]': 'apps',
  'values.env': 'prod',
  cluster: 'in-cluster',
  replicas: 3,
};

describe("Argo CD's default templating (fasttemplate)", () => {
  it.each([
    ['a parameter', '{{path.basename}}', 'payment'],
    [
      'a key with spaces around it',
      '{{ path.basename }}-{{  cluster }}',
      'payment-in-cluster',
    ],
    ['dotted and indexed keys', '{{path[0]}}/{{values.env}}', 'apps/prod'],
    ['text around tags', 'argocd/{{path}}.yaml', 'argocd/apps/payment.yaml'],
    [
      'an unknown key, left as written',
      '{{ missing }}-{{path.basename}}',
      '{{ missing }}-payment',
    ],
    [
      'a parameter that is not a string, left as written',
      '{{replicas}}',
      '{{replicas}}',
    ],
    ['an empty tag, left as written', '{{}}{{ }}', '{{}}{{ }}'],
    ['Go template syntax, left as written', '{{ .path }}', '{{ .path }}'],
    ['a text without tags', 'plain', 'plain'],
    ['tags split over lines, not templated at all', '{{\npath}}', '{{\npath}}'],
    ['an opening tag without a closing one on any line', '{{ path', '{{ path'],
  ])('%s', (_, template, expected) => {
    expect(renderFastTemplate(template, params)).toBe(expected);
  });

  it('refuses a tag left open once another line is templated, as fasttemplate does', () => {
    expect(() => renderFastTemplate('{{path}}\n{{ cluster', params)).toThrow(
      'invalid template: cannot find end tag "}}"',
    );
  });

  it('does not read keys of the object prototype', () => {
    expect(renderFastTemplate('{{constructor}}', {})).toBe('{{constructor}}');
  });
});
