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
   * The live state of the entity's environments: one entry per environment when the entity's
   * annotations name something in this source (with no applications where none maps to that
   * environment), and an empty map when they do not ("not configured"). A source that cannot
   * be reached answers with `reachable: false` and the applications it last knew, rather than
   * throwing. The backend calls it at each refresh of a repository, for every entity at once,
   * so a source shares its requests between entities. It heeds `signal`, which is aborted when
   * the refresh stops or when the source took longer than `promotions.live.timeout` (10 seconds
   * unless configured); the backend stores a source that throws or takes longer as unreachable.
   */
  read(request: LiveStateRequest): Promise<Map<string, LiveState>>;
  /**
   * Follows changes as they happen, calling `onChange` with the refs of entities whose live
   * state may have changed (all, when undefined). Returns a function that stops following. The
   * promotions backend calls it once at start and refreshes those entities' repositories, whose
   * refresh reads the source again.
   */
  watch?(onChange: (entityRefs?: string[]) => void): () => void;
}
