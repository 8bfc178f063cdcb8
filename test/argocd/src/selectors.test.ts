import { matchesSelector, parseSelector } from './selectors';

describe('label selectors', () => {
  const labels = { app: 'payment', env: 'prod', tier: '2' };
  const matches = (selector: string, on: Record<string, string> = labels) =>
    matchesSelector(parseSelector(selector), on);

  it('selects everything with an empty selector', () => {
    expect(parseSelector('')).toEqual([]);
    expect(matches('')).toBe(true);
  });

  it('reads every requirement form Kubernetes reads', () => {
    expect(
      parseSelector(
        'app=payment, env==prod,team!=a,env in (prod, staging),tier notin (1),app,!legacy,tier>1,tier<3',
      ),
    ).toEqual([
      { key: 'app', operator: '=', values: ['payment'] },
      { key: 'env', operator: '=', values: ['prod'] },
      { key: 'team', operator: '!=', values: ['a'] },
      { key: 'env', operator: 'in', values: ['prod', 'staging'] },
      { key: 'tier', operator: 'notin', values: ['1'] },
      { key: 'app', operator: 'exists', values: [] },
      { key: 'legacy', operator: '!', values: [] },
      { key: 'tier', operator: 'gt', values: ['1'] },
      { key: 'tier', operator: 'lt', values: ['3'] },
    ]);
  });

  it('matches labels as Kubernetes does', () => {
    expect(matches('app=payment')).toBe(true);
    expect(matches('app=checkout')).toBe(false);
    expect(matches('team!=a')).toBe(true); // absent labels differ from any value
    expect(matches('env!=prod')).toBe(false);
    expect(matches('env in (dev,prod)')).toBe(true);
    expect(matches('team in (a)')).toBe(false);
    expect(matches('env notin (dev)')).toBe(true);
    expect(matches('team notin (a)')).toBe(true);
    expect(matches('app')).toBe(true);
    expect(matches('!app')).toBe(false);
    expect(matches('tier>1,tier<3')).toBe(true);
    expect(
      matches('app.kubernetes.io/name=payment', {
        'app.kubernetes.io/name': 'payment',
      }),
    ).toBe(true);
    expect(matches('app=', { app: '' })).toBe(true);
  });

  it.each([
    ['app in payment', "found 'payment', expected: '('"],
    ['app in ()', "values set can't be empty"],
    ['app=payment,', "expected: identifier after ','"],
    ['app payment', "found 'payment', expected: in, notin"],
    ['=payment', "found '=', expected: !, identifier"],
    ['app=pay ment', "found 'ment', expected: ',' or 'end of string'"],
    ['-app=x', 'invalid label key'],
    ['app=x_', 'invalid label value'],
    ['tier>high', 'must be an integer'],
  ])('refuses %p', (selector, message) => {
    expect(() => parseSelector(selector)).toThrow(message);
  });
});
