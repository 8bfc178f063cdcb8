import { identityApiRef } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  mockApis,
  renderInTestApp,
  TestApiProvider,
} from '@backstage/test-utils';
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { SWRConfig } from 'swr';
import {
  EnvironmentState,
  Freeze,
  Promotion,
} from '@gitops-promotions/plugin-promotions-common';
import { promotionsApiRef } from '../../api';
import { checkoutPromotions, mockPromotionsApi } from '../fixtures';
import { EnvironmentWorkflow } from './EnvironmentWorkflow';

const entity = { kind: 'Component', namespace: 'default', name: 'checkout' };
const environments = checkoutPromotions.environments;
const stagingUs = environments.find(e => e.name === 'staging-us')!;

const open: Promotion = {
  id: 'p1',
  entityRef: 'component:default/checkout',
  environment: 'staging-us',
  from: ['qa'],
  version: '2.8.0',
  previousVersion: '2.7.1',
  kind: 'promotion',
  state: 'open',
  requestedBy: 'user:default/ana',
  requestedAt: new Date().toISOString(),
  updatedAt: new Date().toISOString(),
  unknownVersion: false,
  branch: 'promotions/checkout/staging-us/p1',
  headCommit: 'a'.repeat(40),
  pullRequest: null,
  decisions: [],
  gates: [
    { gate: 'requires', state: 'passed', summary: 'qa runs 2.8.0' },
    { gate: 'approvals', state: 'pending', summary: '0 of 1 approval' },
  ],
  mergedCommit: null,
  reason: null,
};

async function render(options: {
  user: string;
  allowed?: string[];
  promotion?: Promotion;
  freezes?: Freeze[];
  api?: ReturnType<typeof mockPromotionsApi>;
  environment?: EnvironmentState;
}) {
  const api = options.api ?? mockPromotionsApi();
  const onChanged = jest.fn();
  await renderInTestApp(
    // Each render decides its permissions afresh, not from an earlier test's cache.
    <SWRConfig value={{ provider: () => new Map() }}>
      <TestApiProvider
        apis={[
          [promotionsApiRef, api],
          [
            permissionApiRef,
            mockApis.permission({
              authorize: request =>
                (options.allowed ?? []).includes(request.permission.name)
                  ? AuthorizeResult.ALLOW
                  : AuthorizeResult.DENY,
            }),
          ],
          [identityApiRef, mockApis.identity({ userEntityRef: options.user })],
        ]}
      >
        <EnvironmentWorkflow
          entity={entity}
          environment={options.environment ?? stagingUs}
          environments={environments}
          promotion={options.promotion}
          freezes={options.freezes ?? []}
          onChanged={onChanged}
        />
      </TestApiProvider>
    </SWRConfig>,
  );
  return { api, onChanged };
}

describe('EnvironmentWorkflow', () => {
  it('shows nothing to do to someone the policy allows nothing', async () => {
    await render({ user: 'user:default/sam' });
    await waitFor(() =>
      expect(screen.queryByRole('button')).not.toBeInTheDocument(),
    );
  });

  it('says how an environment the portal does not promote is promoted, instead of offering to', async () => {
    const reason =
      'staging-us is read from the branch env/staging-us: it is promoted by merging in the repository';
    await render({
      user: 'user:default/ana',
      allowed: ['promotions.promote', 'promotions.freeze'],
      environment: { ...stagingUs, notPromotable: reason },
    });
    expect(await screen.findByText(reason)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Freeze' })).toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Promote' }),
    ).not.toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Roll back' }),
    ).not.toBeInTheDocument();
  });

  it('lets someone allowed to promote open the promotion dialog, and shows what will happen first', async () => {
    const api = mockPromotionsApi({
      preview: jest.fn().mockResolvedValue({
        environment: 'staging-us',
        version: '2.8.0',
        previousVersion: '2.7.1',
        from: ['qa'],
        unknownVersion: false,
        baseCommit: 'b'.repeat(40),
        fileDiff:
          '--- a/x\n+++ b/x\n@@ -1,1 +1,1 @@\n-image: checkout:2.7.1\n+image: checkout:2.8.0\n',
        renderedDiff: '',
        commits: [],
        configDifferences: [],
        gates: open.gates,
      }),
      requestPromotion: jest.fn().mockResolvedValue(open),
    });
    const { onChanged } = await render({
      user: 'user:default/ana',
      allowed: ['promotions.promote'],
      api,
    });
    await userEvent.click(
      await screen.findByRole('button', { name: 'Promote' }),
    );
    const dialog = await screen.findByRole('dialog');
    const diff = await within(dialog).findByLabelText(
      'File diff to be committed',
    );
    expect(diff).toHaveTextContent('+image: checkout:2.8.0');
    expect(api.preview).toHaveBeenCalledWith(entity, {
      to: 'staging-us',
      kind: 'promotion',
      version: '2.8.0',
      from: 'qa',
    });
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Ask for the promotion' }),
    );
    await waitFor(() => expect(onChanged).toHaveBeenCalled());
    // What the preview showed, on the commit it was made on.
    expect(api.requestPromotion).toHaveBeenCalledWith(entity, {
      to: 'staging-us',
      kind: 'promotion',
      version: '2.8.0',
      from: 'qa',
      baseCommit: 'b'.repeat(40),
    });
  });

  it('links to the promotion already open when the request is refused with 409, and offers to supersede it', async () => {
    const message =
      'A promotion to staging-us of component:default/checkout is already open: p1 (https://github.example.com/acme/gitops/pull/41); ask with supersede to replace it';
    // As the backend answers: the error names the open promotion and links to it.
    const body = {
      error: {
        name: 'ConflictError',
        message,
        openPromotion: {
          id: 'p1',
          url: 'http://portal.example/catalog/default/component/checkout/promotions',
          pullRequestUrl: 'https://github.example.com/acme/gitops/pull/41',
        },
      },
      request: { method: 'POST', url: '/promotions' },
      response: { statusCode: 409 },
    };
    const conflict = await ResponseError.fromResponse({
      ok: false,
      status: 409,
      statusText: 'Conflict',
      headers: new Headers({ 'content-type': 'application/json' }),
      text: async () => JSON.stringify(body),
    } as unknown as Response);
    const api = mockPromotionsApi({
      preview: jest.fn().mockResolvedValue({
        environment: 'staging-us',
        version: '2.8.0',
        previousVersion: '2.7.1',
        from: ['qa'],
        unknownVersion: false,
        fileDiff:
          '--- a/x\n+++ b/x\n@@ -1,1 +1,1 @@\n-image: checkout:2.7.1\n+image: checkout:2.8.0\n',
        renderedDiff: '',
        commits: [],
        configDifferences: [],
        gates: open.gates,
      }),
      requestPromotion: jest
        .fn()
        .mockRejectedValueOnce(conflict)
        .mockResolvedValueOnce(open),
    });
    const { onChanged } = await render({
      user: 'user:default/ana',
      allowed: ['promotions.promote'],
      api,
    });
    await userEvent.click(
      await screen.findByRole('button', { name: 'Promote' }),
    );
    const dialog = await screen.findByRole('dialog');
    await within(dialog).findByLabelText('File diff to be committed');
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Ask for the promotion' }),
    );
    const alert = await within(dialog).findByRole('alert');
    expect(alert).toHaveTextContent('is already open: p1');
    expect(
      within(alert).getByRole('link', { name: /See the open promotion/ }),
    ).toHaveAttribute(
      'href',
      'http://portal.example/catalog/default/component/checkout/promotions',
    );
    expect(
      within(alert).getByRole('link', { name: /its pull request/ }),
    ).toHaveAttribute('href', 'https://github.example.com/acme/gitops/pull/41');
    await userEvent.click(
      within(alert).getByRole('button', { name: 'Supersede it' }),
    );
    await waitFor(() => expect(onChanged).toHaveBeenCalled());
    expect(api.requestPromotion).toHaveBeenLastCalledWith(entity, {
      to: 'staging-us',
      kind: 'promotion',
      version: '2.8.0',
      from: 'qa',
      supersede: true,
    });
  });

  it('tells the requester that someone else approves, and lets another approve', async () => {
    await render({
      user: 'user:default/ana',
      allowed: ['promotions.approve', 'promotions.promote'],
      promotion: open,
    });
    expect(
      await screen.findByText(
        'You asked for this promotion: someone else approves it.',
      ),
    ).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Approve' })).toBeDisabled();

    const api = mockPromotionsApi({
      decide: jest.fn().mockResolvedValue(open),
    });
    await render({
      user: 'user:default/rita',
      allowed: ['promotions.approve', 'promotions.merge'],
      promotion: open,
      api,
    });
    const approve = (
      await screen.findAllByRole('button', { name: 'Approve' })
    )[1];
    expect(approve).toBeEnabled();
    await userEvent.click(approve);
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByLabelText('Comment'), 'Ship it');
    await userEvent.click(
      within(dialog).getByRole('button', { name: 'Approve' }),
    );
    await waitFor(() =>
      expect(api.decide).toHaveBeenCalledWith('p1', 'approve', 'Ship it'),
    );
  });

  it('offers Merge only when every gate passes, and an override only for windows and freezes', async () => {
    const passing = {
      ...open,
      gates: open.gates.map(g => ({ ...g, state: 'passed' as const })),
    };
    await render({
      user: 'user:default/rita',
      allowed: ['promotions.merge'],
      promotion: passing,
    });
    expect(await screen.findByRole('button', { name: 'Merge' })).toBeEnabled();

    const frozen = {
      ...passing,
      gates: [
        ...passing.gates,
        {
          gate: 'freeze',
          state: 'failed' as const,
          summary: 'Frozen by pat: release',
        },
      ],
    };
    await render({
      user: 'user:default/rita',
      allowed: ['promotions.merge', 'promotions.override'],
      promotion: frozen,
    });
    expect(
      await screen.findByRole('button', { name: 'Merge with override' }),
    ).toBeInTheDocument();
    expect(screen.getAllByRole('button', { name: 'Merge' })).toHaveLength(1);
  });

  it('lifts a freeze only with a reason, which it sends', async () => {
    const freeze: Freeze = {
      id: 7,
      entityRef: 'component:default/checkout',
      environment: 'staging-us',
      reason: 'Black Friday',
      by: 'user:default/rita',
      at: '2026-11-27T08:00:00Z',
    };
    const { api, onChanged } = await render({
      user: 'user:default/rita',
      allowed: ['promotions.freeze'],
      freezes: [freeze],
    });
    await userEvent.click(await screen.findByRole('button', { name: 'Lift' }));
    const dialog = await screen.findByRole('dialog', {
      name: 'Lift the freeze of staging-us',
    });
    const confirm = within(dialog).getByRole('button', { name: 'Lift' });
    expect(confirm).toBeDisabled();
    await userEvent.type(
      within(dialog).getByRole('textbox', { name: /Reason/ }),
      'Black Friday is over',
    );
    await userEvent.click(confirm);
    await waitFor(() =>
      expect(api.liftFreeze).toHaveBeenCalledWith(7, 'Black Friday is over'),
    );
    expect(onChanged).toHaveBeenCalled();
  });

  it('offers to queue a merge only where the change window alone holds it, and sends it', async () => {
    const held = {
      ...open,
      gates: [
        { gate: 'approvals', state: 'passed' as const, summary: '1 of 1' },
        {
          gate: 'windows',
          state: 'pending' as const,
          summary: 'Outside the change windows (Mon 10:00–11:00 UTC)',
          until: '2030-01-07T10:00:00.000Z',
        },
      ],
    };
    const { api, onChanged } = await render({
      user: 'user:default/rita',
      allowed: ['promotions.merge'],
      promotion: held,
    });
    await userEvent.click(
      await screen.findByRole('button', { name: 'Queue to merge' }),
    );
    await waitFor(() => expect(api.queue).toHaveBeenCalledWith('p1'));
    expect(onChanged).toHaveBeenCalled();

    // Without the merge permission, or with another gate not passed, there is nothing to queue.
    await render({
      user: 'user:default/rita',
      allowed: ['promotions.approve'],
      promotion: held,
    });
    await render({
      user: 'user:default/rita',
      allowed: ['promotions.merge'],
      promotion: {
        ...held,
        gates: [
          ...held.gates,
          { gate: 'checks', state: 'failed' as const, summary: 'CI failed' },
        ],
      },
    });
    expect(
      screen.getAllByRole('button', { name: 'Queue to merge' }),
    ).toHaveLength(1);
  });

  it('shows when a queued promotion merges, and takes it off the queue', async () => {
    const queuedUntil = '2030-01-07T10:00:00.000Z';
    const { api } = await render({
      user: 'user:default/rita',
      allowed: ['promotions.merge'],
      promotion: {
        ...open,
        queuedUntil,
        gates: [
          {
            gate: 'windows',
            state: 'pending' as const,
            summary: 'Outside the change windows',
            until: queuedUntil,
          },
        ],
      },
    });
    expect(
      await screen.findByText(/^Queued to merge at .*2030/),
    ).toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Queue to merge' }),
    ).not.toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Unqueue' }));
    await waitFor(() => expect(api.unqueue).toHaveBeenCalledWith('p1'));
  });

  it('shows why an action was refused', async () => {
    const refused = Object.assign(new Error('Not every gate passes'), {});
    const api = mockPromotionsApi({
      merge: jest.fn().mockRejectedValue(refused),
    });
    await render({
      user: 'user:default/rita',
      allowed: ['promotions.merge'],
      promotion: { ...open, gates: [] },
      api,
    });
    await userEvent.click(await screen.findByRole('button', { name: 'Merge' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Not every gate passes',
    );
  });
});
