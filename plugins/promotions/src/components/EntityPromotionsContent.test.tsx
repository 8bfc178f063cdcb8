import { Entity } from '@backstage/catalog-model';
import { ResponseError } from '@backstage/errors';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import {
  mockApis,
  renderInTestApp,
  TestApiProvider,
} from '@backstage/test-utils';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { act, screen, within } from '@testing-library/react';
import { EntityPromotions } from '@gitops-promotions/plugin-promotions-common';
import { PromotionsApi, promotionsApiRef } from '../api';
import {
  EntityPromotionsContent,
  PENDING_POLL_MS,
} from './EntityPromotionsContent';
import { checkoutPromotions, hoursAgo, mockPromotionsApi } from './fixtures';
import { absoluteTime } from './time';

const annotated = {
  'gitops-promotions/repository': 'example-gitops',
  'gitops-promotions/path': 'checkout/envs/{env}',
  'gitops-promotions/pipeline': 'regional',
};

const entity = (annotations: Record<string, string> = annotated): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'checkout', namespace: 'default', annotations },
  spec: {},
});

const answering = (promotions: EntityPromotions) =>
  mockPromotionsApi({
    getEntityPromotions: jest.fn().mockResolvedValue(promotions),
  });

async function render(api: PromotionsApi, forEntity = entity()) {
  return renderInTestApp(
    <TestApiProvider
      apis={[
        [promotionsApiRef, api],
        [permissionApiRef, mockApis.permission()],
      ]}
    >
      <EntityProvider entity={forEntity}>
        <EntityPromotionsContent />
      </EntityProvider>
    </TestApiProvider>,
  );
}

async function serviceUnavailable(message: string) {
  const response = new Response(
    JSON.stringify({
      error: { name: 'ServiceUnavailableError', message },
      response: { statusCode: 503 },
    }),
    {
      status: 503,
      statusText: 'Service Unavailable',
      headers: { 'Content-Type': 'application/json' },
    },
  );
  return ResponseError.fromResponse(response);
}

describe('EntityPromotionsContent', () => {
  afterEach(() => jest.useRealTimers());

  it('reads the promotions of the entity and shows its pipeline', async () => {
    const api = answering(checkoutPromotions);
    await render(api);
    expect(
      await screen.findByRole('region', { name: 'Environment prod-eu' }),
    ).toBeInTheDocument();
    expect(
      screen.getAllByRole('region', { name: /^Environment / }),
    ).toHaveLength(5);
    expect(api.getEntityPromotions).toHaveBeenCalledWith({
      kind: 'Component',
      namespace: 'default',
      name: 'checkout',
    });
  });

  it('says where and when the data was read, with the exact time on hover', async () => {
    await render(answering(checkoutPromotions));
    const age = await screen.findByLabelText('Data age');
    expect(age).toHaveTextContent(
      'Read from example-gitops at fedcba9, 3 hours ago · pipeline regional',
    );
    expect(within(age).getByText('3 hours ago')).toHaveAttribute(
      'title',
      absoluteTime(checkoutPromotions.asOf!),
    );
  });

  it('asks for the missing annotations instead of reading anything', async () => {
    const api = mockPromotionsApi({ getEntityPromotions: jest.fn() });
    await render(api, entity({}));
    expect(await screen.findByText(/Missing Annotation/i)).toBeInTheDocument();
    expect(
      screen.getAllByText(/gitops-promotions\/repository/).length,
    ).toBeGreaterThan(0);
    expect(api.getEntityPromotions).not.toHaveBeenCalled();
  });

  it('explains an unusable path annotation instead of reading anything', async () => {
    const api = mockPromotionsApi({ getEntityPromotions: jest.fn() });
    await render(
      api,
      entity({ ...annotated, 'gitops-promotions/path': '../other/{env}' }),
    );
    expect(
      await screen.findByText(
        'The gitops-promotions/path annotation cannot be used',
      ),
    ).toBeInTheDocument();
    expect(
      screen.getByText(/escapes the repository with "\.\."/),
    ).toBeInTheDocument();
    expect(api.getEntityPromotions).not.toHaveBeenCalled();
  });

  it('reads an entity whose environments an Argo CD manifest or a branch per environment gives', async () => {
    const api = answering(checkoutPromotions);
    await render(
      api,
      entity({
        'gitops-promotions/repository': 'example-gitops',
        'gitops-promotions/argocd-manifest': 'argocd/checkout.yaml',
      }),
    );
    expect(
      await screen.findByRole('region', { name: 'Environment prod-eu' }),
    ).toBeInTheDocument();
    await render(
      api,
      entity({
        'gitops-promotions/repository': 'example-gitops',
        'gitops-promotions/path': 'checkout/deploy',
        'gitops-promotions/ref': 'env/{env}',
      }),
    );
    expect(api.getEntityPromotions).toHaveBeenCalledTimes(2);
  });

  it('explains annotations that contradict each other instead of reading anything', async () => {
    const api = mockPromotionsApi({ getEntityPromotions: jest.fn() });
    await render(
      api,
      entity({
        ...annotated,
        'gitops-promotions/path': 'checkout/deploy',
        'gitops-promotions/ref': 'env/{env}',
        'gitops-promotions/tag': 'v*-{env}',
      }),
    );
    expect(
      await screen.findByText('The Promotions annotations cannot be used'),
    ).toBeInTheDocument();
    expect(
      screen.getByText(
        /gitops-promotions\/ref and gitops-promotions\/tag are both set/,
      ),
    ).toBeInTheDocument();
    expect(api.getEntityPromotions).not.toHaveBeenCalled();
  });

  it('shows the error panel when the backend cannot serve the entity', async () => {
    const error = await serviceUnavailable(
      'Could not read repository example-gitops: gone',
    );
    await render(
      mockPromotionsApi({
        getEntityPromotions: jest.fn().mockRejectedValue(error),
      }),
    );
    expect(
      (
        await screen.findAllByText(
          /Could not read repository example-gitops: gone/,
        )
      ).length,
    ).toBeGreaterThan(0);
    expect(
      screen.getByText(/Request failed with 503 Service Unavailable/),
    ).toBeInTheDocument();
    expect(
      screen.queryByRole('region', { name: /^Environment / }),
    ).not.toBeInTheDocument();
  });

  it('warns that the state shown is the last known one, and how old it is, when a refresh failed', async () => {
    await render(
      answering({
        ...checkoutPromotions,
        error: {
          message: 'Could not read repository example-gitops: timeout',
          at: hoursAgo(1),
        },
      }),
    );
    const warning = await screen.findByRole('alert');
    expect(warning).toHaveTextContent(
      'Showing the last known state, read 3 hours ago',
    );
    expect(warning).toHaveTextContent(
      'The refresh 1 hour ago failed: Could not read repository example-gitops: timeout',
    );
    expect(
      screen.getByRole('region', { name: 'Environment qa' }),
    ).toBeInTheDocument();
  });

  const waiting = (pullRequestUrl: string | null): EntityPromotions => ({
    entityRef: 'component:default/checkout',
    asOf: null,
    repository: { id: 'example-gitops', revision: null },
    pipeline: 'regional',
    environments: [],
    waitingForMerge: { branch: 'scaffold/checkout', pullRequestUrl },
  });

  it('says the layout waits to be merged, with a link to its pull request', async () => {
    await render(answering(waiting('https://github.com/acme/gitops/pull/12')));
    expect(
      await screen.findByText('Waiting for the layout to be merged'),
    ).toBeInTheDocument();
    expect(
      screen.getByRole('link', { name: 'Open the pull request' }),
    ).toHaveAttribute('href', 'https://github.com/acme/gitops/pull/12');
  });

  // A script address, as a hostile backend answer could hold one.
  // eslint-disable-next-line no-script-url
  it.each([[null], ['javascript:alert(1)']])(
    'says the layout waits to be merged, naming its branch where there is no pull request to link (%s)',
    async pullRequestUrl => {
      await render(answering(waiting(pullRequestUrl)));
      expect(
        screen.queryByRole('link', { name: 'Open the pull request' }),
      ).not.toBeInTheDocument();
      expect(
        await screen.findByText('Waiting for the layout to be merged'),
      ).toBeInTheDocument();
      expect(
        screen.getByText('scaffold/checkout', { selector: 'code' }),
      ).toBeInTheDocument();
    },
  );

  it('says the repository is being read, and asks again until it has been', async () => {
    jest.useFakeTimers({ advanceTimers: true });
    const notRead = { ...checkoutPromotions, asOf: null, environments: [] };
    const api = mockPromotionsApi({
      getEntityPromotions: jest
        .fn()
        .mockResolvedValueOnce(notRead)
        .mockResolvedValueOnce(notRead)
        .mockResolvedValue(checkoutPromotions),
    });
    await render(api);
    expect(await screen.findByRole('status')).toHaveTextContent(
      'Reading the GitOps repository example-gitops…',
    );
    await act(() => jest.advanceTimersByTimeAsync(PENDING_POLL_MS));
    expect(api.getEntityPromotions).toHaveBeenCalledTimes(2);
    expect(screen.getByRole('status')).toBeInTheDocument();

    await act(() => jest.advanceTimersByTimeAsync(PENDING_POLL_MS));
    expect(
      await screen.findByRole('region', { name: 'Environment qa' }),
    ).toBeInTheDocument();
    expect(api.getEntityPromotions).toHaveBeenCalledTimes(3);
    expect(screen.queryByRole('status')).not.toBeInTheDocument();
  });

  it('keeps waiting for the first read while telling why the last attempt failed', async () => {
    await render(
      answering({
        ...checkoutPromotions,
        asOf: null,
        environments: [],
        error: {
          message: 'Repository example-gitops: connection refused',
          at: hoursAgo(0.01),
        },
      }),
    );
    expect(await screen.findByRole('status')).toHaveTextContent(
      'Reading the GitOps repository',
    );
    expect(screen.getByRole('alert')).toHaveTextContent(
      'The GitOps repository could not be read yet',
    );
    expect(screen.getByRole('alert')).toHaveTextContent('connection refused');
  });
});
