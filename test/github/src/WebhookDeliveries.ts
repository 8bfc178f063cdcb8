import crypto from 'node:crypto';
import { GithubWebhooksOpenApi } from './openapi';
import { webhooksMethods } from './webhooksMethods';

/** Where webhook deliveries go, and the secret that signs them. */
export interface WebhookTarget {
  url: string;
  secret: string;
}

/** One webhook delivery the simulator made. */
export interface WebhookDelivery {
  /** `X-GitHub-Delivery` */
  id: string;
  /** `X-GitHub-Event`: push, pull_request, pull_request_review, check_run, status… */
  event: string;
  action?: string;
  /** The receiver's HTTP status; 0 when it could not be reached. */
  status: number;
  payload: Record<string, unknown>;
}

/**
 * Sends webhook deliveries one after the other, in the order of the events, signed as GitHub
 * signs them; every payload is checked against GitHub's description of its webhooks first.
 */
export class WebhookDeliveries {
  readonly deliveries: WebhookDelivery[] = [];
  target?: WebhookTarget;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly hook: { id: number; repositoryId: number },
    private readonly problems: string[],
  ) {}

  /**
   * Queues a delivery of an event. The payload is built now (its promise starts at once), so it
   * tells the state of the moment of the event even when it is sent later.
   */
  send(event: string, payload: () => Promise<Record<string, unknown>>): void {
    const target = this.target;
    if (!target) return;
    const built = payload();
    // A failing payload is reported when its turn comes; until then it must not be unhandled.
    built.catch(() => {});
    this.tail = this.tail.then(() =>
      built.then(
        body => this.deliver(target, event, body),
        error => {
          this.problems.push(
            `the simulator failed to build a ${event} webhook: ${
              error.stack ?? error
            }`,
          );
        },
      ),
    );
  }

  /** Resolves when every delivery queued so far (and those they queue) has been answered. */
  async settled(): Promise<void> {
    let tail: Promise<void>;
    do {
      tail = this.tail;
      await tail;
    } while (tail !== this.tail);
  }

  private async deliver(
    target: WebhookTarget,
    event: string,
    payload: Record<string, unknown>,
  ) {
    const action =
      typeof payload.action === 'string' ? payload.action : undefined;
    this.problems.push(
      ...GithubWebhooksOpenApi.load().check(event, action, payload),
    );
    const body = JSON.stringify(payload);
    const id = crypto.randomUUID();
    let status = 0;
    try {
      const response = await fetch(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'GitHub-Hookshot/github-simulator',
          'x-github-event': event,
          'x-github-delivery': id,
          'x-github-hook-id': String(this.hook.id),
          'x-github-hook-installation-target-type': 'repository',
          'x-github-hook-installation-target-id': String(
            this.hook.repositoryId,
          ),
          'x-hub-signature': `sha1=${crypto
            .createHmac('sha1', target.secret)
            .update(body)
            .digest('hex')}`,
          'x-hub-signature-256': await webhooksMethods().sign(
            target.secret,
            body,
          ),
        },
        body,
        // GitHub gives up on a receiver after ten seconds.
        signal: AbortSignal.timeout(10_000),
      });
      status = response.status;
      await response.arrayBuffer();
    } catch {
      status = 0;
    }
    this.deliveries.push({ id, event, action, status, payload });
  }
}
