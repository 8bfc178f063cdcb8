import { renderInTestApp } from '@backstage/test-utils';
import { screen, within } from '@testing-library/react';
import { EnvironmentPipeline, pipelineColumns } from './EnvironmentPipeline';
import { checkoutPromotions } from './fixtures';

describe('pipelineColumns', () => {
  it('puts each environment one column after the furthest one it requires', () => {
    const columns = pipelineColumns(checkoutPromotions.environments);
    expect(columns.map(column => column.map(env => env.name))).toEqual([
      ['qa'],
      ['staging-us', 'staging-eu'],
      ['prod-us', 'prod-eu'],
    ]);
  });

  it('survives a requirement that names no environment', () => {
    const [qa] = checkoutPromotions.environments;
    expect(pipelineColumns([{ ...qa, requires: ['gone'] }]).map(c => c.map(e => e.name))).toEqual([['qa']]);
  });
});

describe('EnvironmentPipeline', () => {
  it('draws the stages left to right with every environment, version and drift', async () => {
    await renderInTestApp(<EnvironmentPipeline environments={checkoutPromotions.environments} />);
    const stages = screen.getAllByRole('list', { name: /^Stage/ });
    expect(stages.map(stage => within(stage).getAllByRole('region').map(r => r.getAttribute('aria-label')))).toEqual([
      ['Environment qa'],
      ['Environment staging-us', 'Environment staging-eu'],
      ['Environment prod-us', 'Environment prod-eu'],
    ]);

    const stagingEu = screen.getByRole('region', { name: 'Environment staging-eu' });
    expect(within(stagingEu).getByLabelText('Desired version')).toHaveTextContent('2.7.1');
    expect(within(stagingEu).getByText('behind')).toBeInTheDocument();
    expect(within(stagingEu).getByText(/Behind qa by 1 version/)).toBeInTheDocument();
    expect(within(stagingEu).getByLabelText('Pull request #79')).toHaveTextContent('#79');
    expect(within(stagingEu).getByText('ghcr.io/acme/checkout:2.7.1')).toBeInTheDocument();

    const prodEu = screen.getByRole('region', { name: 'Environment prod-eu' });
    expect(within(prodEu).getByText('config')).toBeInTheDocument();
    expect(within(prodEu).getByText('CACHE_SIZE: 1024kb here vs 512kb in staging-eu', { exact: false })).toBeInTheDocument();

    expect(within(screen.getByRole('region', { name: 'Environment prod-us' })).getByText('ahead')).toBeInTheDocument();
    expect(within(screen.getByRole('region', { name: 'Environment qa' })).getByText('No drift')).toBeInTheDocument();
  });
});
