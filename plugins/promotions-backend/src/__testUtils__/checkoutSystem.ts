import { Entity } from '@backstage/catalog-model';
import { shopHistory } from '@internal/promotions-fixtures';
import { shopEntity } from './workflowBackend';

/** `shop` and `cart`, laid out alike: dev runs 1.2.0, staging 1.1.0, prod 1.0.0. */
export const twoServices = shopHistory.map(commit => ({
  ...commit,
  files: Object.fromEntries(
    Object.entries(commit.files).flatMap(([path, content]) => [
      [path, content],
      [
        path.replace(/^shop\//, 'cart/'),
        content === null ? null : content.replace(/shop/g, 'cart'),
      ],
    ]),
  ),
}));

const component = (
  name: string,
  system: string,
  annotations: Record<string, string> = {},
): Entity => {
  const base = shopEntity({
    'gitops-promotions/path': `${name}/overlays/{env}`,
    ...annotations,
  });
  return {
    ...base,
    metadata: { ...base.metadata, name },
    spec: { ...base.spec, system },
    relations: [
      ...(base.relations ?? []),
      { type: 'partOf', targetRef: `system:default/${system}` },
    ],
  };
};

const system = (name: string): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'System',
  metadata: { name, namespace: 'default' },
  spec: { owner: 'group:default/shop-team' },
});

export const checkoutMembers = [
  { entityRef: 'component:default/shop' },
  { entityRef: 'component:default/cart' },
];

/** The `checkout` system (shop and cart) and the `payments` system (billing). */
export const checkoutEntities = (): Entity[] => [
  component('shop', 'checkout'),
  component('cart', 'checkout'),
  component('billing', 'payments'),
  system('checkout'),
  system('payments'),
];
