/**
 * A fake Slack Socket Mode endpoint: a real WebSocket server speaking Slack's envelope protocol.
 * `apps.connections.open` on the fake Web API answers with this server's URL (see attachSocketMode).
 *
 *   server → client  {"type":"hello",…}, then envelopes
 *                    {"envelope_id","type":"slash_commands"|"interactive"|"events_api","payload",…}
 *   client → server  {"envelope_id", "payload"?}   (the ack)
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import type { FakeSlackApi } from './slack-api';
import { FAKE_APP_ID } from '../helpers/slack-fixtures';

export interface SocketAck {
  envelope_id: string;
  payload?: unknown;
}

export interface FakeSocketMode {
  readonly url: string;
  /** Resolves when a client has connected and been greeted. */
  connected(timeoutMs?: number): Promise<void>;
  /** Sends an envelope and resolves with the client's ack for it. */
  send(type: 'slash_commands' | 'interactive' | 'events_api', payload: Record<string, unknown>, extra?: Record<string, unknown>): Promise<SocketAck>;
  close(): Promise<void>;
}

export async function startFakeSocketMode(): Promise<FakeSocketMode> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const { port } = wss.address() as AddressInfo;
  let client: WebSocket | undefined;
  const waiting = new Map<string, (ack: SocketAck) => void>();
  const greeted: (() => void)[] = [];
  wss.on('connection', (ws) => {
    client = ws;
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as SocketAck;
      waiting.get(msg.envelope_id)?.(msg);
      waiting.delete(msg.envelope_id);
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: 1,
        debug_info: { host: 'fake-socket', approximate_connection_time: 18060 },
        connection_info: { app_id: FAKE_APP_ID },
      }),
    );
    greeted.splice(0).forEach((f) => f());
  });
  return {
    url: `ws://127.0.0.1:${port}/link/?ticket=fake-ticket`,
    connected: (timeoutMs = 5000) =>
      client
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('no Socket Mode client connected')), timeoutMs);
            greeted.push(() => {
              clearTimeout(timer);
              resolve();
            });
          }),
    send: (type, payload, extra = {}) => {
      if (!client) throw new Error('no Socket Mode client connected');
      const envelope_id = randomUUID();
      const acked = new Promise<SocketAck>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ack for ${type} envelope`)), 3000);
        waiting.set(envelope_id, (ack) => {
          clearTimeout(timer);
          resolve(ack);
        });
      });
      client.send(JSON.stringify({ envelope_id, type, payload, accepts_response_payload: type !== 'events_api', ...extra }));
      return acked;
    },
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** Makes the fake Web API hand out the Socket Mode URL on apps.connections.open. */
export function attachSocketMode(slack: FakeSlackApi, socket: FakeSocketMode): void {
  slack.override('apps.connections.open', () => ({ ok: true, url: socket.url }));
}
