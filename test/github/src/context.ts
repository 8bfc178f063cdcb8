import { Answer } from './answers';
import { GitPerson, GitRepository } from './GitRepository';
import { GithubObjects, GithubUser } from './GithubObjects';
import { SizeBoundedCache } from './SizeBoundedCache';
import { WebhookDeliveries } from './WebhookDeliveries';

/** What the simulator's endpoints share: the repository, its representations, and its events. */
export interface SimulatorContext {
  readonly owner: string;
  readonly repo: string;
  readonly git: GitRepository;
  readonly objects: GithubObjects;
  readonly webhooks: WebhookDeliveries;
  /** Answers that never change (Git objects by id), by operation and arguments. */
  readonly answers: SizeBoundedCache<Answer>;
  readonly defaultBranch: string;
  readonly defaultUser: GithubUser;
  /** The largest recursive tree listed in full. */
  maxTreeEntries(): number;
  /** Runs writes one at a time, as each reads the state the previous one left. */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  /** A ref moved (NO_COMMIT: created or deleted): sends the webhooks that follow a push. */
  pushed(ref: string, before: string, after: string, pusher: GithubUser): void;
  /** `full-repository`, as it is now. */
  repository(): ReturnType<GithubObjects['repository']>;
  /** A user as the author or committer of a commit made now (or at `date`). */
  person(user: GithubUser, date?: number): GitPerson;
}
