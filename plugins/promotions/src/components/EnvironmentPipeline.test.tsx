import { renderInTestApp } from '@backstage/test-utils';
import { screen, within } from '@testing-library/react';
import {
  EnvironmentPipeline,
  pipelineColumns,
  pipelineEdges,
} from './EnvironmentPipeline';
import { checkoutPromotions } from './fixtures';

const names = (columns: { name: string }[][]) =>
  columns.map(column => column.map(env => env.name));
const [qa] = checkoutPromotions.environments;

describe('pipelineColumns', () => {
  it('puts each environment one column after the furthest one it requires', () => {
    expect(names(pipelineColumns(checkoutPromotions.environments))).toEqual([
      ['qa'],
      ['staging-us', 'staging-eu'],
      ['prod-us', 'prod-eu'],
    ]);
  });

  it('places an environment that joins two branches after the longer one', () => {
    const env = (name: string, requires: string[]) => ({
      ...qa,
      name,
      requires,
    });
    const columns = pipelineColumns([
      env('prod', ['staging', 'perf']),
      env('dev', []),
      env('staging', ['dev']),
      env('perf', ['staging']),
    ]);
    expect(names(columns)).toEqual([['dev'], ['staging'], ['perf'], ['prod']]);
  });

  it('survives requirements that name no environment, and cycles', () => {
    expect(names(pipelineColumns([{ ...qa, requires: ['gone'] }]))).toEqual([
      ['qa'],
    ]);
    const cycle = pipelineColumns([
      { ...qa, name: 'a', requires: ['b'] },
      { ...qa, name: 'b', requires: ['a'] },
    ]);
    expect(
      cycle
        .flat()
        .map(env => env.name)
        .sort(),
    ).toEqual(['a', 'b']);
  });
});

describe('pipelineEdges', () => {
  it('links every environment to each upstream it requires', () => {
    expect(pipelineEdges(checkoutPromotions.environments)).toEqual([
      { from: 'qa', to: 'staging-us' },
      { from: 'qa', to: 'staging-eu' },
      { from: 'staging-us', to: 'prod-us' },
      { from: 'staging-eu', to: 'prod-eu' },
    ]);
  });

  it('leaves out upstreams that are not shown', () => {
    expect(pipelineEdges([{ ...qa, requires: ['gone'] }])).toEqual([]);
  });
});

describe('EnvironmentPipeline', () => {
  it('draws the stages left to right, fanning out to the environments of a stage', async () => {
    await renderInTestApp(
      <EnvironmentPipeline environments={checkoutPromotions.environments} />,
    );
    const stages = within(
      screen.getByRole('group', { name: 'Environment pipeline' }),
    ).getAllByRole('list', {
      name: /^Stage/,
    });
    expect(
      stages.map(stage =>
        within(stage)
          .getAllByRole('region', { name: /^Environment / })
          .map(card => card.getAttribute('aria-label')),
      ),
    ).toEqual([
      ['Environment qa'],
      ['Environment staging-us', 'Environment staging-eu'],
      ['Environment prod-us', 'Environment prod-eu'],
    ]);
  });

  it('shows each environment with its version, the upstream it comes from and its drift', async () => {
    await renderInTestApp(
      <EnvironmentPipeline environments={checkoutPromotions.environments} />,
    );
    const card = (name: string) =>
      screen.getByRole('region', { name: `Environment ${name}` });

    expect(
      within(card('qa')).getByLabelText('Desired version'),
    ).toHaveTextContent('2.8.0');
    expect(within(card('qa')).getByText('In sync')).toBeInTheDocument();

    expect(
      within(card('staging-eu')).getByLabelText('Desired version'),
    ).toHaveTextContent('2.7.1');
    expect(
      within(card('staging-eu')).getByText('← from qa'),
    ).toBeInTheDocument();
    expect(
      within(card('staging-eu')).getByText(
        /behind qa \(2\.8\.0\) by 1 version/,
      ),
    ).toBeInTheDocument();

    expect(
      within(card('prod-us')).getByLabelText('Desired version'),
    ).toHaveTextContent('2.9.0');
    expect(
      within(card('prod-us')).getByText('← from staging-us'),
    ).toBeInTheDocument();
    expect(within(card('prod-us')).getByText('ahead')).toBeInTheDocument();

    expect(
      within(card('prod-eu')).getByText('← from staging-eu'),
    ).toBeInTheDocument();
    const differences = within(card('prod-eu')).getByRole('list', {
      name: 'Config differences from staging-eu',
    });
    expect(within(differences).getAllByRole('listitem')[0]).toHaveTextContent(
      'CACHE_SIZE: 512kb in staging-eu vs 1024kb in prod-eu',
    );
    expect(
      within(card('prod-eu')).getByText('stale promotion'),
    ).toBeInTheDocument();
  });

  it('says so when the pipeline has no environments', async () => {
    await renderInTestApp(<EnvironmentPipeline environments={[]} />);
    expect(screen.getByText('No environments')).toBeInTheDocument();
    expect(screen.queryByRole('region')).not.toBeInTheDocument();
  });
});
