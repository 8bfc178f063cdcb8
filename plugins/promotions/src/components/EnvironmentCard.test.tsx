import { renderInTestApp } from '@backstage/test-utils';
import { screen, within } from '@testing-library/react';
import { EnvironmentState } from '@gitops-promotions/plugin-promotions-common';
import { EnvironmentCard, formatImageRef } from './EnvironmentCard';
import { checkoutPromotions } from './fixtures';
import { absoluteTime } from './time';

const environmentNamed = (name: string) =>
  checkoutPromotions.environments.find(env => env.name === name)!;

async function renderCard(environment: EnvironmentState) {
  await renderInTestApp(<EnvironmentCard environment={environment} />);
  return screen.getByRole('region', {
    name: `Environment ${environment.name}`,
  });
}

describe('EnvironmentCard', () => {
  it('shows the desired version, its images, path and last change', async () => {
    const qa = environmentNamed('qa');
    const card = await renderCard(qa);
    expect(
      within(card).getByRole('heading', { name: 'qa' }),
    ).toBeInTheDocument();
    expect(within(card).getByLabelText('Desired version')).toHaveTextContent(
      '2.8.0',
    );

    const images = within(card).getByRole('group', { name: 'Images' });
    expect(
      within(images).getByText(
        'ghcr.io/acme/checkout:2.8.0@sha256:9f86d081884c',
      ),
    ).toBeInTheDocument();
    expect(
      within(images).getByText('ghcr.io/acme/log-shipper:0.9.1'),
    ).toBeInTheDocument();
    expect(within(card).getByRole('group', { name: 'Path' })).toHaveTextContent(
      'checkout/envs/qa',
    );

    const change = within(card).getByRole('group', { name: 'Last change' });
    expect(change).toHaveTextContent('3c6fc7c by Chen Wei, 2 days ago');
    expect(within(change).getByText('2 days ago')).toHaveAttribute(
      'title',
      absoluteTime(qa.desired.lastChange!.at),
    );
    expect(
      within(change).getByText('Promote checkout 2.8.0 to qa (#158)'),
    ).toBeInTheDocument();
    expect(change).not.toHaveTextContent('Approved-by');
  });

  it('names the pull request of the last change and the upstream it is promoted from', async () => {
    const card = await renderCard(environmentNamed('staging-eu'));
    expect(within(card).getByLabelText('Pull request #158')).toHaveTextContent(
      '#158',
    );
    expect(within(card).getByText('← from qa')).toBeInTheDocument();
  });

  it('says an environment without drift is in sync, and that live state is not configured', async () => {
    const card = await renderCard(environmentNamed('staging-us'));
    expect(within(card).getByText('In sync')).toBeInTheDocument();
    expect(
      within(card).getByRole('region', { name: 'Live state' }),
    ).toHaveTextContent('Not configured');
    expect(
      within(card).queryByRole('group', { name: /^Drift/ }),
    ).not.toBeInTheDocument();
  });

  it('shows every drift of a drifting environment, and no in-sync mark', async () => {
    const card = await renderCard(environmentNamed('prod-us'));
    expect(
      within(card)
        .getAllByRole('group', { name: /^Drift/ })
        .map(g => g.getAttribute('aria-label')),
    ).toEqual(['Drift: ahead', 'Drift: out of sync', 'Drift: live mismatch']);
    expect(within(card).queryByText('In sync')).not.toBeInTheDocument();
  });

  it('explains why an environment could not be resolved, and what is not known', async () => {
    const card = await renderCard({
      name: 'prod-ap',
      requires: ['staging-eu', 'staging-us'],
      desired: {
        version: null,
        images: [],
        path: 'checkout/envs/prod-ap',
        lastChange: null,
      },
      live: null,
      drift: [],
      error:
        'checkout/envs/prod-ap/kustomization.yaml: resource "../../bse" not found',
    });
    expect(within(card).getByRole('alert')).toHaveTextContent(
      'resource "../../bse" not found',
    );
    expect(within(card).getByLabelText('Desired version')).toHaveTextContent(
      '—',
    );
    expect(within(card).getByText('none found')).toBeInTheDocument();
    expect(within(card).getByText('unknown')).toBeInTheDocument();
    expect(
      within(card).getByText('← from staging-eu, staging-us'),
    ).toBeInTheDocument();
    expect(within(card).queryByText('In sync')).not.toBeInTheDocument();
  });

  it('says which branch, tag or repository an environment is read from, when not the usual one', async () => {
    expect(
      within(await renderCard(environmentNamed('qa'))).queryByRole('group', {
        name: 'Read from',
      }),
    ).not.toBeInTheDocument();
    const staging = environmentNamed('staging-us');
    const card = await renderCard({
      ...staging,
      desired: {
        ...staging.desired,
        source: {
          repositoryId: 'gitops',
          kind: 'tag',
          ref: 'v2.8.0-staging-us',
          pattern: 'v*-staging-us',
          revision: '0123456789abcdef0123456789abcdef01234567',
        },
      },
    });
    expect(
      within(card).queryByText(/the chart's appVersion/),
    ).not.toBeInTheDocument();
    const source = within(card).getByRole('group', { name: 'Read from' });
    expect(source).toHaveTextContent(
      'tag v2.8.0-staging-us (v*-staging-us) of gitops',
    );
    expect(within(source).getByTitle(/^commit 0123456789abcdef/)).toBeTruthy();
    const prod = await renderCard({
      ...environmentNamed('prod-us'),
      desired: {
        ...environmentNamed('prod-us').desired,
        source: {
          repositoryId: 'environment-prod',
          kind: 'commit',
          ref: 'fedcba9876543210fedcba9876543210fedcba98',
          revision: 'fedcba9876543210fedcba9876543210fedcba98',
        },
        versionSource: 'appVersion',
      },
    });
    // A version no value names is marked as derived.
    expect(
      within(prod).getByText("the chart's appVersion: the tag value is empty"),
    ).toBeInTheDocument();
    expect(
      within(prod).getByRole('group', { name: 'Read from' }),
    ).toHaveTextContent('commit fedcba987654 of environment-prod');
  });

  it('notes quietly what the backend did not read, as text, each cut to a sane length', async () => {
    const huge = `Not read: ${'<b>x</b>'.repeat(1_300)} (k.yaml)`;
    const card = await renderCard({
      ...environmentNamed('staging-us'),
      notes: [
        'Not read: vars (services/x/overlays/prod/kustomization.yaml)',
        'Not read: remote resource "<img src=x onerror=alert(1)>" (services/x/overlays/prod/kustomization.yaml)',
        huge,
      ],
    });
    const notes = within(card).getByRole('note', { name: 'Resolution notes' });
    expect(notes).toHaveTextContent('Not everything was read');
    const items = within(notes).getAllByRole('listitem');
    expect(items.map(item => item.textContent)).toEqual([
      'Not read: vars (services/x/overlays/prod/kustomization.yaml)',
      'Not read: remote resource "<img src=x onerror=alert(1)>" (services/x/overlays/prod/kustomization.yaml)',
      expect.stringMatching(/^Not read: (<b>x<\/b>)+.*…$/),
    ]);
    expect(items[2].textContent!.length).toBeLessThanOrEqual(1000);
    expect(card.querySelector('img, b')).toBeNull();
    // A note is no error, and no drift: the environment is still in sync.
    expect(within(card).queryByRole('alert')).not.toBeInTheDocument();
    expect(within(card).getByText('In sync')).toBeInTheDocument();
  });

  it('shows no notes when there are none, as in states computed before notes existed', async () => {
    const card = await renderCard(environmentNamed('staging-us'));
    expect(within(card).queryByRole('note')).not.toBeInTheDocument();
    const empty = await renderCard({ ...environmentNamed('qa'), notes: [] });
    expect(within(empty).queryByRole('note')).not.toBeInTheDocument();
  });
});

describe('formatImageRef', () => {
  it('writes name:tag@shortdigest with the parts an image has', () => {
    const digest =
      'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
    expect(
      formatImageRef({ name: 'ghcr.io/acme/checkout', tag: '2.8.0', digest }),
    ).toBe('ghcr.io/acme/checkout:2.8.0@sha256:9f86d081884c');
    expect(
      formatImageRef({ name: 'ghcr.io/acme/checkout', tag: null, digest }),
    ).toBe('ghcr.io/acme/checkout@sha256:9f86d081884c');
    expect(formatImageRef({ name: 'nginx', tag: null, digest: null })).toBe(
      'nginx',
    );
  });
});
