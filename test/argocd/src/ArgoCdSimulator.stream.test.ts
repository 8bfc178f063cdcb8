import { ArgoCdSimulator } from './ArgoCdSimulator';

interface WatchEvent {
  type: string;
  application: { metadata: { name: string; resourceVersion: string } };
}

/** A watch stream read line by line, as a client of grpc-gateway's streaming reads it. */
class StreamReader {
  private buffer = '';
  private readonly decoder = new TextDecoder();
  private reader?: ReadableStreamDefaultReader<Uint8Array>;

  constructor(private readonly body: ReadableStream<Uint8Array>) {}

  /** The next line, parsed; fails when none comes within `ms`. */
  async next(ms = 1000): Promise<Record<string, any>> {
    const deadline = Date.now() + ms;
    while (!this.buffer.includes('\n')) {
      this.reader ??= this.body.getReader();
      const chunk = await Promise.race([
        this.reader.read(),
        new Promise<never>((_, reject) =>
          setTimeout(
            () => reject(new Error(`no line within ${ms} ms`)),
            Math.max(0, deadline - Date.now()),
          ),
        ),
      ]);
      if (chunk.done) throw new Error('the stream ended');
      this.buffer += this.decoder.decode(chunk.value, { stream: true });
    }
    const end = this.buffer.indexOf('\n');
    const line = this.buffer.slice(0, end);
    this.buffer = this.buffer.slice(end + 1);
    return JSON.parse(line);
  }

  async event(ms?: number): Promise<WatchEvent> {
    return (await this.next(ms)).result;
  }
}

describe('ArgoCdSimulator watch stream', () => {
  let simulator: ArgoCdSimulator;
  let token: string;

  beforeEach(async () => {
    simulator = await ArgoCdSimulator.start({
      applications: [
        { name: 'payment-dev', labels: { app: 'payment', env: 'dev' } },
        { name: 'payment-prod', labels: { app: 'payment', env: 'prod' } },
        { name: 'checkout-dev', labels: { app: 'checkout', env: 'dev' } },
      ],
    });
    token = simulator.createApiToken();
  });

  afterEach(() => simulator.stop());

  const watch = async (query = '', headers: Record<string, string> = {}) => {
    const response = await fetch(
      `${simulator.url}/api/v1/stream/applications${query}`,
      { headers: { authorization: `Bearer ${token}`, ...headers } },
    );
    return {
      response,
      stream: new StreamReader(response.body!),
    };
  };

  it('sends the matching applications as ADDED, then a change as MODIFIED within a second, even on a loaded machine', async () => {
    const { response, stream } = await watch(
      `?selector=${encodeURIComponent('app=payment')}`,
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    const added = [await stream.event(), await stream.event()];
    expect(added.map(e => [e.type, e.application.metadata.name])).toEqual([
      ['ADDED', 'payment-dev'],
      ['ADDED', 'payment-prod'],
    ]);
    expect(simulator.openStreams).toBe(1);

    const changedAt = Date.now();
    simulator.updateApplication('payment-prod', {
      desiredRevision: 'f'.repeat(40),
    });
    const modified = await stream.event(100);
    expect(Date.now() - changedAt).toBeLessThan(1000);
    expect(modified.type).toBe('MODIFIED');
    expect(modified.application).toMatchObject({
      metadata: { name: 'payment-prod', resourceVersion: '4' },
      status: { sync: { status: 'OutOfSync', revision: 'f'.repeat(40) } },
    });

    // Changes outside the selector are not sent; the next line is the payment-dev deletion.
    simulator.updateApplication('checkout-dev', { health: 'Degraded' });
    simulator.deleteApplication('payment-dev');
    const deleted = await stream.event();
    expect([deleted.type, deleted.application.metadata.name]).toEqual([
      'DELETED',
      'payment-dev',
    ]);
    expect(simulator.problems).toEqual([]);
  });

  it('resumes from a resourceVersion without the initial ADDED events, headers coming with the first event', async () => {
    let responded = false;
    const opened = watch('?resourceVersion=4').then(result => {
      responded = true;
      return result;
    });
    await new Promise(resolve => setTimeout(resolve, 100));
    expect(responded).toBe(false); // grpc-gateway writes nothing until there is an event
    simulator.updateApplication('checkout-dev', { health: 'Progressing' });
    const { stream } = await opened;
    const event = await stream.event();
    expect([event.type, event.application.metadata.name]).toEqual([
      'MODIFIED',
      'checkout-dev',
    ]);
    expect(simulator.problems).toEqual([]);
  });

  it('watches one application by name, with the ADDED event even when resuming', async () => {
    // payment-prod was stored second: its resourceVersion is 2.
    const { stream } = await watch('?name=payment-prod&resourceVersion=2');
    const added = await stream.event();
    expect([added.type, added.application.metadata.name]).toEqual([
      'ADDED',
      'payment-prod',
    ]);
    simulator.updateApplication('payment-dev', { health: 'Degraded' });
    simulator.setRollout('payment-prod', {
      stableImage: 'ghcr.io/acme/payment:1.0.0',
      canaryImage: 'ghcr.io/acme/payment:1.1.0',
      step: 1,
    });
    const modified = await stream.event();
    expect(modified.type).toBe('MODIFIED');
    expect(modified.application).toMatchObject({
      metadata: { name: 'payment-prod' },
      status: { health: { status: 'Suspended' } },
    });
    expect(simulator.problems).toEqual([]);
  });

  it('keeps only the fields asked for', async () => {
    const { stream } = await watch(
      '?name=payment-dev&fields=result.type,result.application.metadata.name',
    );
    expect(await stream.next()).toEqual({
      result: {
        type: 'ADDED',
        application: { metadata: { name: 'payment-dev' } },
      },
    });
    expect(simulator.problems).toEqual([]);
  });

  it('speaks server-sent events when asked for them', async () => {
    const { response } = await watch('?name=payment-dev', {
      accept: 'text/event-stream',
    });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toMatch(
      /^data: \{"result":.*\} \n\n$/,
    );
    await reader.cancel();
    expect(simulator.problems).toEqual([]);
  });

  it('ends every open stream abruptly on dropStreams, so clients must reconnect', async () => {
    const { stream } = await watch();
    await stream.event();
    expect(simulator.openStreams).toBe(1);
    simulator.dropStreams();
    await expect(
      (async () => {
        for (;;) await stream.next();
      })(),
    ).rejects.toThrow(/terminated|ended|closed|reset/i);
    expect(simulator.openStreams).toBe(0);

    const again = await watch('?name=payment-dev');
    expect((await again.stream.event()).type).toBe('ADDED');
    expect(simulator.count('ApplicationService_Watch')).toBe(2);
    expect(simulator.problems).toEqual([]);
  });

  it('refuses a stream without a valid token with a stream error', async () => {
    const response = await fetch(`${simulator.url}/api/v1/stream/applications`);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error: {
        grpc_code: 16,
        http_code: 401,
        message: 'no session information',
        http_status: 'Unauthorized',
      },
    });
    simulator.failNext(1, 503, 'ApplicationService_Watch');
    const failed = await watch();
    expect(failed.response.status).toBe(503);
    expect((await failed.response.json()).error.grpc_code).toBe(14);
    expect(simulator.problems).toEqual([]);
  });
});
