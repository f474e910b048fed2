import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../src/http/server';
import { createLogger } from '../../src/logging/logger';
import { createMetrics } from '../../src/metrics';

/**
 * The HTTP server's request time limits (src/http/server.ts REQUEST_LIMITS), shortened here: a client that
 * sends its headers or its body too slowly gets 408 and loses the connection, instead of holding it for
 * Node's default minutes.
 */
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function start(): Promise<number> {
  const routes = {
    ready: {},
    metrics: createMetrics({ processMetrics: false }),
    logger: createLogger({ level: 'silent' }),
    // Answers once it has read the whole body, as Bolt does.
    slack: (req: IncomingMessage, res: ServerResponse) => {
      req.resume().once('end', () => {
        res.writeHead(200);
        res.end();
      });
    },
    limits: { headersTimeoutMs: 300, requestTimeoutMs: 600, checkEveryMs: 100 },
  };
  const server = createHttpServer(routes);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return (server.address() as AddressInfo).port;
}

/** Opens a raw connection, writes `first`, and resolves with what the server sent before it closed the connection. */
function slowClient(port: number, first: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    socket.on('data', (d) => (got += d.toString('latin1')));
    socket.once('close', () => resolve(got));
    socket.once('error', reject);
    socket.write(first); // …and nothing more
  });
}

describe('request time limits', () => {
  it('headers that never finish: 408 and the connection closed', async () => {
    const port = await start();
    const answer = await slowClient(port, 'POST /slack/events HTTP/1.1\r\nHost: bwprep\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('a body that never finishes: 408 and the connection closed', async () => {
    const port = await start();
    const answer = await slowClient(
      port,
      'POST /slack/events HTTP/1.1\r\nHost: bwprep\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\npayload=',
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });
});
