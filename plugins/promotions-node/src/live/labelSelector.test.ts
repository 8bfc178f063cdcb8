import { matchesLabels, parseLabelSelector } from './labelSelector';

describe('label selectors', () => {
  const labels = {
    'app.kubernetes.io/name': 'payment',
    env: 'prod',
    tier: '3',
  };
  const matches = (selector: string) =>
    matchesLabels(parseLabelSelector(selector), labels);

  it('matches every form Kubernetes reads', () => {
    expect(matches('')).toBe(true);
    expect(matches('app.kubernetes.io/name=payment')).toBe(true);
    expect(matches('app.kubernetes.io/name==checkout')).toBe(false);
    expect(matches('env!=dev')).toBe(true);
    expect(matches('env in (prod, staging)')).toBe(true);
    expect(matches('env notin (prod)')).toBe(false);
    expect(matches('env,!canary')).toBe(true);
    expect(matches('!env')).toBe(false);
    expect(matches('tier>2,tier<4')).toBe(true);
    expect(matches('app.kubernetes.io/name=payment,env in (dev)')).toBe(false);
  });

  it('refuses what is not a selector, quoting it', () => {
    expect(() => parseLabelSelector('env in prod')).toThrow(
      '"env in prod" is not a label selector requirement',
    );
    expect(() => parseLabelSelector('env=a b')).toThrow(/a label/);
    expect(() => parseLabelSelector('=prod')).toThrow(
      /not a label selector requirement/,
    );
  });
});
