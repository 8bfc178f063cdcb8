import { Config } from '@backstage/config';
import { GateEvaluation } from '@gitops-promotions/plugin-promotions-common';

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
  /** This gate's settings in the environment's policy (`promotions.pipelines.<p>[].<type>`). */
  policy: Config;
  /** The promotion being judged. */
  promotion: {
    id: string;
    requestedBy: string;
    requestedAt: Date;
    /** Users who approved it, each once. */
    approvedBy: string[];
    /** The commit that would be merged, once the change is written. */
    headCommit: string | null;
  };
  /** The environments the target is promoted from, with the version each runs and since when. */
  upstreams: Array<{
    name: string;
    version: string | null;
    since: Date | null;
  }>;
  now: Date;
  signal?: AbortSignal;
}

/**
 * A condition a promotion must meet before it may be merged, configured under its `type` in
 * an environment's policy. Built-in gates cover upstream versions, approvals, soak time, change
 * windows, freezes, checks, immutable versions, CODEOWNERS and an HTTP check; modules add more.
 *
 * @public
 */
export interface PromotionGate {
  /** The policy key that enables the gate, such as `approvals`. */
  readonly type: string;
  evaluate(context: GateContext): Promise<GateEvaluation>;
}
