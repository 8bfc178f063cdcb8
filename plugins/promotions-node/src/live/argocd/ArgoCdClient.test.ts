import http from 'node:http';
import { AddressInfo } from 'node:net';
import { HttpUnreachableError } from '../http';
import { ArgoCdClient, MAX_STREAM_MESSAGE_CHARS } from './ArgoCdClient';

describe('ArgoCdClient', () => {
  let server: http.Server;
  let url: string;

  beforeEach(async () => {
    // A watch stream whose first message never ends: one line growing until the client leaves.
    server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"result":{"type":"ADDED","application":{"metadata":');
      const chunk = 'x'.repeat(1024 * 1024);
      const more = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', more);
      };
      more();
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise(resolve => server.close(resolve));
  });

  it('gives up a watch stream whose message grows beyond 4 MiB as unreachable, saying so', async () => {
    expect(MAX_STREAM_MESSAGE_CHARS).toBe(4 * 1024 * 1024);
    const client = new ArgoCdClient({
      name: 'east',
      url,
      token: 'token',
      timeoutMs: 2000,
    });
    const events: unknown[] = [];
    const watching = client.watch({
      signal: new AbortController().signal,
      idleTimeoutMs: 20_000,
      onOpen: () => {},
      onEvent: event => events.push(event),
    });
    await expect(watching).rejects.toThrow(HttpUnreachableError);
    await expect(watching).rejects.toThrow(
      `a message of the stream was longer than ${MAX_STREAM_MESSAGE_CHARS} characters`,
    );
    expect(events).toEqual([]);
  });
});
