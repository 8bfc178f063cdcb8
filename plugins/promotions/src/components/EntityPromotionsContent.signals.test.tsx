import { Entity } from '@backstage/catalog-model';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import { permissionApiRef } from '@backstage/plugin-permission-react';
import { SignalApi, signalApiRef } from '@backstage/plugin-signals-react';
import {
  mockApis,
  renderInTestApp,
  TestApiProvider,
} from '@backstage/test-utils';
import { act, screen, waitFor } from '@testing-library/react';
import { promotionsApiRef } from '../api';
import { EntityPromotionsContent } from './EntityPromotionsContent';
import { checkoutPromotions, mockPromotionsApi } from './fixtures';

/** A signal's message: any JSON object. */
type JsonObject = Parameters<Parameters<SignalApi['subscribe']>[1]>[0];

const checkout: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'Checkout',
    namespace: 'default',
    annotations: {
      'gitops-promotions/repository': 'example-gitops',
      'gitops-promotions/path': 'checkout/envs/{env}',
      'gitops-promotions/pipeline': 'regional',
    },
  },
  spec: {},
};

/** A signal API as the signals plugin's client behaves: each message to a channel's subscribers. */
function fakeSignals() {
  const subscribers = new Map<string, Set<(message: JsonObject) => void>>();
  const api: SignalApi = {
    subscribe<TMessage extends JsonObject>(
      channel: string,
      onMessage: (message: TMessage) => void,
    ) {
      const callback = onMessage as (message: JsonObject) => void;
      if (!subscribers.has(channel)) subscribers.set(channel, new Set());
      subscribers.get(channel)!.add(callback);
      return { unsubscribe: () => subscribers.get(channel)?.delete(callback) };
    },
  };
  const send = (channel: string, message: JsonObject) =>
    act(() => {
      // The client parses each message anew: every one is a new object.
      for (const callback of subscribers.get(channel) ?? []) {
        callback(JSON.parse(JSON.stringify(message)));
      }
    });
  return { api, send, subscribers };
}

describe('EntityPromotionsContent and signals', () => {
  it('reads the entity and its promotions again when the backend signals a change, and only then', async () => {
    const promotions = mockPromotionsApi({
      getEntityPromotions: jest.fn().mockResolvedValue(checkoutPromotions),
    });
    const signals = fakeSignals();
    await renderInTestApp(
      <TestApiProvider
        apis={[
          [promotionsApiRef, promotions],
          [permissionApiRef, mockApis.permission()],
          [signalApiRef, signals.api],
        ]}
      >
        <EntityProvider entity={checkout}>
          <EntityPromotionsContent />
        </EntityProvider>
      </TestApiProvider>,
    );
    expect(
      await screen.findByRole('region', { name: 'Environment prod-eu' }),
    ).toBeInTheDocument();
    await waitFor(() =>
      expect(promotions.listPromotions).toHaveBeenCalledTimes(1),
    );
    expect(promotions.getEntityPromotions).toHaveBeenCalledTimes(1);
    // The channel names the entity in lower case, as the backend does.
    expect([...signals.subscribers.keys()]).toEqual([
      'promotions:component:default/checkout',
    ]);

    // Another entity's signal is none of this page's business.
    await signals.send('promotions:component:default/cart', {
      change: 'state',
    });
    expect(promotions.getEntityPromotions).toHaveBeenCalledTimes(1);

    await signals.send('promotions:component:default/checkout', {
      change: 'state',
    });
    await waitFor(() =>
      expect(promotions.getEntityPromotions).toHaveBeenCalledTimes(2),
    );
    await waitFor(() =>
      expect(promotions.listPromotions).toHaveBeenCalledTimes(2),
    );
    expect(promotions.freezes).toHaveBeenCalledTimes(2);

    await signals.send('promotions:component:default/checkout', {
      change: 'promotion',
    });
    await waitFor(() =>
      expect(promotions.listPromotions).toHaveBeenCalledTimes(3),
    );
    expect(promotions.getEntityPromotions).toHaveBeenCalledTimes(3);
    // Still on the page, not back to a spinner.
    expect(
      screen.getByRole('region', { name: 'Environment prod-eu' }),
    ).toBeInTheDocument();
  });
});
