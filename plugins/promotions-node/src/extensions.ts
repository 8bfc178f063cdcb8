import { createExtensionPoint } from '@backstage/backend-plugin-api';
import { LiveStateSource } from './live';
import { GitOpsRepositoryProvider } from './repository';
import { PromotionGate } from './workflow';

/**
 * Adds GitOps repository providers: a module that teaches the suite GitLab or Bitbucket
 * registers a provider for its `provider` value of `promotions.repositories`.
 *
 * @public
 */
export interface PromotionsRepositoryProvidersExtensionPoint {
  addProvider(...providers: GitOpsRepositoryProvider[]): void;
}

/**
 * The extension point for repository providers.
 *
 * @public
 */
export const promotionsRepositoryProvidersExtensionPoint =
  createExtensionPoint<PromotionsRepositoryProvidersExtensionPoint>({
    id: 'promotions.repository-providers',
  });

/**
 * Adds sources of live state (what really runs in each environment): Argo CD, Flux, or another
 * deployment system. The backend reads every source at each refresh of a repository, each
 * within `promotions.live.timeout`, and stores the answers; page views never reach a source.
 *
 * @public
 */
export interface PromotionsLiveStateExtensionPoint {
  addLiveStateSource(...sources: LiveStateSource[]): void;
}

/**
 * The extension point for live-state sources.
 *
 * @public
 */
export const promotionsLiveStateExtensionPoint =
  createExtensionPoint<PromotionsLiveStateExtensionPoint>({
    id: 'promotions.live-state',
  });

/**
 * Adds promotion gates: conditions a promotion must meet before it may be merged, each named
 * by the key it is configured under in an environment's policy.
 *
 * @public
 */
export interface PromotionsGatesExtensionPoint {
  addGate(...gates: PromotionGate[]): void;
}

/**
 * The extension point for promotion gates.
 *
 * @public
 */
export const promotionsGatesExtensionPoint =
  createExtensionPoint<PromotionsGatesExtensionPoint>({
    id: 'promotions.gates',
  });
