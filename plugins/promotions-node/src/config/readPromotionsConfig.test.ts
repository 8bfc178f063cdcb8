import { ConfigReader } from '@backstage/config';
import { readPromotionsConfig } from './readPromotionsConfig';

const read = (promotions: any) =>
  readPromotionsConfig(new ConfigReader({ promotions }));

describe('readPromotionsConfig', () => {
  it('reads repositories, pipelines in promotion order, refresh and expected keys', () => {
    const config = read({
      repositories: [{ id: 'gitops', provider: 'git', url: '/srv/gitops' }],
      pipelines: {
        regional: [
          { name: 'prod-eu', requires: ['staging-eu'] },
          { name: 'staging-eu', requires: ['qa'] },
          { name: 'qa' },
        ],
      },
      refresh: { frequency: { minutes: 2 }, timeout: { minutes: 1 } },
      drift: { expectedKeys: ['spec.replicas'] },
    });
    expect(config.repositories.get('gitops')).toMatchObject({
      id: 'gitops',
      provider: 'git',
      url: '/srv/gitops',
      branch: 'main',
    });
    expect(config.pipelines.get('regional')!.map(e => e.name)).toEqual([
      'qa',
      'staging-eu',
      'prod-eu',
    ]);
    expect(config.pipelines.get('default')!.map(e => e.name)).toEqual([
      'dev',
      'staging',
      'prod',
    ]);
    expect(config.refresh.frequency).toEqual({ minutes: 2 });
    expect(config.expectedKeys).toEqual(['spec.replicas']);
  });

  it.each([
    [
      { repositories: [{ id: 'a', provider: 'Git Hub', url: 'x' }] },
      'provider "Git Hub" is not a provider name',
    ],
    [
      { repositories: [{ id: '../a', provider: 'git', url: 'x' }] },
      '"../a" is not a valid repository id',
    ],
    [
      {
        repositories: [
          { id: 'a', provider: 'git', url: 'x', branch: 'main..x' },
        ],
      },
      '"main..x" is not a valid branch name',
    ],
    [
      {
        repositories: [
          { id: 'a', provider: 'git', url: 'x' },
          { id: 'a', provider: 'git', url: 'y' },
        ],
      },
      'the id "a" is used twice',
    ],
    [
      { pipelines: { p: [{ name: 'prod', requires: ['staging'] }] } },
      '"prod" requires "staging", which is not in the pipeline',
    ],
    [
      {
        pipelines: {
          p: [
            { name: 'a', requires: ['b'] },
            { name: 'b', requires: ['a'] },
          ],
        },
      },
      'the requirements form a cycle (a -> b -> a)',
    ],
    [
      { pipelines: { p: [{ name: 'Prod' }] } },
      '"Prod" is not a valid environment name',
    ],
    [
      { pipelines: { p: [{ name: 'dev' }, { name: 'dev' }] } },
      '"dev" is listed twice',
    ],
  ])('rejects a mistake with its reason: %j', (promotions, message) => {
    expect(() => read(promotions)).toThrow(message);
  });
});
