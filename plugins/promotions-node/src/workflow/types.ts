import { Config } from '@backstage/config';
import {
  Freeze,
  GateEvaluation,
} from '@gitops-promotions/plugin-promotions-common';
import { EnvironmentPolicy } from '../config/environmentPolicy';
import { GitOpsRepository } from '../repository/types';

/**
 * What a gate is asked about: one promotion of a version to an environment.
 *
 * @public
 */
export interface GateContext {
  entityRef: string;
  /** The environment the version is promoted to. */
  environment: string;
  version: string;
  /** The environment's policy, read and checked. */
  policy: EnvironmentPolicy;
  /** The environment's whole entry of `promotions.pipelines`, for a module's own settings. */
  config: Config;
  /** The promotion being judged. */
  promotion: {
    id: string;
    kind: 'promotion' | 'rollback';
    requestedBy: string;
    requestedAt: Date;
    /** The version is one no upstream runs. */
    unknownVersion: boolean;
    /** The commit that would be merged. */
    headCommit: string | null;
    pullRequest: number | null;
    /** The branch the change is merged into, whose CODEOWNERS apply. */
    baseBranch: string;
    /** The repository paths the change writes. */
    changedPaths: string[];
    /** Approvals and rejections, each with the groups its author belongs to. */
    decisions: Array<{
      by: string;
      ownership: string[];
      decision: 'approve' | 'reject';
      source: 'portal' | 'github';
    }>;
  };
  /** The environments the target is promoted from, each with the version it runs and since when. */
  upstreams: Array<{
    name: string;
    version: string | null;
    since: Date | null;
  }>;
  /** The repository the change is written to: checks, CODEOWNERS. */
  repository: GitOpsRepository;
  /** Freezes in force on the environment. */
  freezes: Freeze[];
  now: Date;
  signal?: AbortSignal;
}

/**
 * A condition a promotion must meet before it may be merged, enabled by its `type` key in an
 * environment's policy. Built-in gates cover upstream versions, approvals, soak time, change
 * windows, freezes, checks, immutable versions, CODEOWNERS and an HTTP check; modules add more.
 *
 * @public
 */
export interface PromotionGate {
  /** The policy key that enables the gate, such as `approvals`. */
  readonly type: string;
  evaluate(context: GateContext): Promise<GateEvaluation>;
}
