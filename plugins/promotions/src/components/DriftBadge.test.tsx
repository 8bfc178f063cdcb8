import { renderInTestApp } from '@backstage/test-utils';
import { screen, within } from '@testing-library/react';
import {
  ConfigDrift,
  VersionDrift,
} from '@gitops-promotions/plugin-promotions-common';
import { shortKey } from '@gitops-promotions/plugin-promotions-common';
import { DriftBadge } from './DriftBadge';
import { checkoutPromotions } from './fixtures';

const driftsOf = (name: string) =>
  checkoutPromotions.environments.find(env => env.name === name)!.drift;

const differs: VersionDrift = {
  kind: 'differs',
  summary: 'Runs 47-orange, staging-eu runs 48-blue, order unknown',
  upstream: 'staging-eu',
  upstreamVersion: '48-blue',
  version: '47-orange',
  versions: null,
  commits: null,
  since: null,
};

describe('DriftBadge', () => {
  it.each([
    [
      'staging-eu',
      'behind',
      'behind',
      /^Runs 2\.7\.1, behind qa \(2\.8\.0\) by 1 version in 1 commit since 2026-11-22$/,
    ],
    [
      'prod-us',
      'ahead',
      'ahead',
      /^Runs 2\.9\.0, ahead of staging-us \(2\.8\.0\)$/,
    ],
    [
      'prod-eu',
      'config',
      'config',
      /^Config differs from staging-eu in 2 keys/,
    ],
    [
      'prod-us',
      'out-of-sync',
      'out of sync',
      /^Argo CD reports checkout-prod-us OutOfSync$/,
    ],
    [
      'prod-us',
      'live-mismatch',
      'live mismatch',
      /^Runs ghcr\.io\/acme\/checkout:2\.8\.0 live/,
    ],
    [
      'prod-eu',
      'stale-promotion',
      'stale promotion',
      /^Promotion of 2\.8\.0 to prod-eu open for 9 days/,
    ],
  ])(
    'shows %s\'s %s drift as a "%s" chip with its summary as text',
    async (env, kind, label, summary) => {
      const drift = driftsOf(env).find(d => d.kind === kind)!;
      await renderInTestApp(<DriftBadge drift={drift} environment={env} />);
      const badge = screen.getByRole('group', { name: `Drift: ${label}` });
      expect(within(badge).getByText(label)).toBeInTheDocument();
      expect(within(badge).getByText(summary)).toBeVisible();
    },
  );

  it('lists each differing config key with its value upstream and in this environment', async () => {
    const drift = driftsOf('prod-eu').find(
      d => d.kind === 'config',
    ) as ConfigDrift;
    await renderInTestApp(<DriftBadge drift={drift} environment="prod-eu" />);
    const differences = screen.getByRole('list', {
      name: 'Config differences from staging-eu',
    });
    const lines = within(differences).getAllByRole('listitem');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toHaveTextContent(
      'CACHE_SIZE: 512kb in staging-eu vs 1024kb in prod-eu',
    );
    expect(lines[1]).toHaveTextContent(
      'FEATURE_BULK_EXPORT: true in staging-eu vs absent in prod-eu',
    );
    expect(lines[0]).toHaveAttribute(
      'title',
      'Deployment/checkout containers[checkout].env.CACHE_SIZE',
    );
    expect(
      within(lines[0]).getByText(
        'Deployment/checkout containers[checkout].env.CACHE_SIZE',
      ),
    ).toBeVisible();
  });

  it('says a secret differs without showing a value', async () => {
    const drift: ConfigDrift = {
      kind: 'config',
      upstream: 'staging',
      summary: 'Config differs from staging in 1 key (DB_PASSWORD differs)',
      differences: [
        {
          key: 'Deployment/app containers[app].env.DB_PASSWORD',
          value: null,
          upstreamValue: null,
          secret: true,
        },
      ],
    };
    await renderInTestApp(<DriftBadge drift={drift} environment="prod" />);
    expect(
      screen.getByText(
        /differs between staging and prod \(a secret: its values are not shown\)/,
      ),
    ).toBeInTheDocument();
    expect(screen.queryByText(/absent/)).not.toBeInTheDocument();
  });

  it('shows a version difference of unknown order as a "differs" chip with its summary', async () => {
    await renderInTestApp(<DriftBadge drift={differs} environment="prod-eu" />);
    const badge = screen.getByRole('group', { name: 'Drift: differs' });
    expect(within(badge).getByText('differs')).toBeInTheDocument();
    expect(
      within(badge).getByText(
        'Runs 47-orange, staging-eu runs 48-blue, order unknown',
      ),
    ).toBeVisible();
  });

  it('colours the chip by kind: amber behind, blue ahead, red out of sync, its own for differs', async () => {
    const [behind] = driftsOf('staging-eu');
    const [ahead, outOfSync] = driftsOf('prod-us');
    await renderInTestApp(
      <>
        <DriftBadge drift={behind} environment="staging-eu" />
        <DriftBadge drift={ahead} environment="prod-us" />
        <DriftBadge drift={outOfSync} environment="prod-us" />
        <DriftBadge drift={differs} environment="prod-eu" />
      </>,
    );
    const background = (label: string) =>
      getComputedStyle(screen.getByText(label).closest('.MuiChip-root')!)
        .backgroundColor;
    expect(
      new Set([
        background('behind'),
        background('ahead'),
        background('out of sync'),
        background('differs'),
      ]).size,
    ).toBe(4);
  });
});

describe('shortKey', () => {
  it('keeps the last part of a rendered key, or a whole object named alone', () => {
    expect(
      shortKey('Deployment/checkout containers[checkout].env.CACHE_SIZE'),
    ).toBe('CACHE_SIZE');
    expect(
      shortKey('Deployment/checkout containers[app].resources.limits.memory'),
    ).toBe('memory');
    expect(shortKey('ConfigMap/checkout-flags')).toBe(
      'ConfigMap/checkout-flags',
    );
  });
});

describe('DriftBadge with a kind from a newer backend', () => {
  it('shows the kind and its summary instead of failing', async () => {
    const drift = {
      kind: 'git-vs-live',
      summary: 'Live runs an older revision',
    } as any;
    await renderInTestApp(<DriftBadge drift={drift} environment="prod" />);
    expect(screen.getByText('git-vs-live')).toBeInTheDocument();
    expect(screen.getByText('Live runs an older revision')).toBeInTheDocument();
  });
});
