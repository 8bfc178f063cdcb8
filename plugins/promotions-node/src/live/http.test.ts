import http from 'node:http';
import { AddressInfo } from 'node:net';
import { HttpUnreachableError, MAX_BODY_BYTES, requestJson } from './http';

describe('requestJson', () => {
  let server: http.Server;
  let url: string;

  beforeEach(async () => {
    // An answer that never ends by itself: a JSON list of names, growing until the client leaves.
    server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[');
      const chunk = `${'"application",'.repeat(64 * 1024)}`;
      const more = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', more);
      };
      more();
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise(resolve => server.close(resolve));
  });

  it('gives up an answer larger than 32 MiB as unreachable, saying so', async () => {
    expect(MAX_BODY_BYTES).toBe(32 * 1024 * 1024);
    const answer = requestJson(url, { timeoutMs: 20_000 });
    await expect(answer).rejects.toThrow(HttpUnreachableError);
    await expect(answer).rejects.toThrow(
      `the answer was larger than ${MAX_BODY_BYTES} bytes`,
    );
  });
});
