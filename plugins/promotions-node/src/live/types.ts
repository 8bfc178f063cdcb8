import { Entity } from '@backstage/catalog-model';
import { LiveState } from '@gitops-promotions/plugin-promotions-common';

/**
 * What a live-state source is asked: one entity's environments.
 *
 * @public
 */
export interface LiveStateRequest {
  entity: Entity;
  /** The environments of the entity's pipeline, in promotion order. */
  environments: string[];
  signal?: AbortSignal;
}

/**
 * A source of live state, read in the background and stored: page views never reach it.
 *
 * @public
 */
export interface LiveStateSource {
  /** Names the source in the API and in logs (`argocd`, `flux`). */
  readonly id: string;
  /**
   * The live state of each environment the source knows for this entity; an empty map when the
   * entity has nothing in this source ("not configured"). A source that cannot be reached
   * answers with `reachable: false` states rather than throwing.
   */
  read(request: LiveStateRequest): Promise<Map<string, LiveState>>;
  /**
   * Follows changes as they happen, calling `onChange` with the refs of entities whose live
   * state may have changed (all, when undefined). Returns a function that stops following.
   */
  watch?(onChange: (entityRefs?: string[]) => void): () => void;
}
