import { mockServices } from '@backstage/backend-test-utils';
import { ResolutionError } from '@gitops-promotions/plugin-promotions-node';
import { memorySnapshot } from '@gitops-promotions/plugin-promotions-node/testUtils';
import { resolveForState } from './resolution';

describe('resolveForState', () => {
  const snapshot = memorySnapshot({ 'shop/overlays/prod/x.yaml': 'a: 1\n' });
  const context = (logger = mockServices.logger.mock()) => ({
    repositoryId: 'gitops',
    environment: 'prod',
    logger,
  });

  it('stores a failure that is not the content’s with the repository and environment only, and logs the reason', async () => {
    const logger = mockServices.logger.mock();
    const stderr =
      'fatal: loose object 1f2e (stored in /srv/backstage/cache/gitops.git/objects/1f/2e) is corrupt';
    const { resolution, probes } = await resolveForState(
      { resolve: async () => Promise.reject(new Error(stderr)) },
      snapshot,
      'shop/overlays/prod',
      {},
      context(logger),
    );
    expect(resolution).toEqual({
      ok: false,
      error:
        "Repository gitops: environment prod could not be read at shop/overlays/prod; the backend's log says why",
      inputs: ['shop/overlays/prod'],
    });
    expect(probes).toBeNull();
    expect(JSON.stringify(resolution)).not.toMatch(/srv|fatal|corrupt/);
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining(stderr));
  });

  it("keeps a content error's file and reason, which name only the repository's own files", async () => {
    const { resolution } = await resolveForState(
      {
        resolve: async () =>
          Promise.reject(
            new ResolutionError(
              'shop/overlays/prod/x.yaml',
              'invalid YAML at line 1',
            ),
          ),
      },
      snapshot,
      'shop/overlays/prod',
      {},
      context(),
    );
    expect(resolution).toEqual({
      ok: false,
      error: 'shop/overlays/prod/x.yaml: invalid YAML at line 1',
      inputs: ['shop/overlays/prod/x.yaml'],
    });
  });
});
