import http, { type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { reasonOf, StartupError } from '../config/errors';
import type { Logger } from '../logging/logger';
import type { Metrics } from '../metrics';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

export interface HttpRoutes {
  /** Bolt's HTTP receiver, mounted at POST /slack/events. */
  slack?: RequestListener;
  /** Teams (botbuilder CloudAdapter, src/teams) at POST /api/messages. */
  teams?: RequestListener;
  /** Readiness probes: each resolves or throws. */
  ready: Record<string, () => Promise<void>>;
  metrics: Metrics;
  /** Metrics kept elsewhere in the process (the Slack work thread), summed into /metrics with `metrics`. */
  moreMetrics?: () => Promise<MetricObjectWithValues<MetricValue<string>>[]>;
  logger: Logger;
  /** Request time limits (ms); defaults REQUEST_LIMITS. Tests shorten them. */
  limits?: Partial<typeof REQUEST_LIMITS>;
}

/**
 * How long a client may take to send a request (ms), so a slow sender cannot hold connections and buffers:
 * the headers within 10 s and the whole request within 15 s (Slack and Teams send small requests at once;
 * Node's defaults are 60 s and 300 s). Checked every second (`connectionsCheckingInterval`; Node: 30 s).
 * A request over either limit gets 408 and its connection is closed.
 */
const REQUEST_LIMITS = { headersTimeoutMs: 10_000, requestTimeoutMs: 15_000, checkEveryMs: 1_000 };

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(text);
}

/** A readiness probe that does not answer within this bound counts as failing (a store that hangs is not ready). */
const READY_PROBE_TIMEOUT_MS = 2_000;

function withTimeout<T>(p: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`readiness probe ${name} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The largest body /slack/events accepts, in bytes. Slack's requests (slash commands, interactions with the
 * clicked message's blocks, view submissions) are form-encoded and stay far below this; Teams has the same
 * bound at /api/messages (src/teams).
 */
const MAX_SLACK_BODY_BYTES = 1024 * 1024;

/**
 * Refuses a Slack request whose body would be read unbounded: Bolt reads the whole body before it checks the
 * signature, so a body without a declared length (Slack always sends Content-Length) gets 411 and one
 * declared over the bound 413, both without reading it, and the connection is closed after the answer.
 */
function refuseUnboundedBody(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'POST') return false;
  const declared = req.headers['content-length'];
  const status = declared === undefined ? 411 : Number(declared) > MAX_SLACK_BODY_BYTES ? 413 : 0;
  if (!status) return false;
  res.shouldKeepAlive = false;
  send(res, status, { error: status === 411 ? 'length_required' : 'payload_too_large' });
  return true;
}

/** One HTTP server for every surface: /slack/events, /api/messages, /healthz, /readyz, /metrics. */
export function createHttpServer(routes: HttpRoutes): http.Server {
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/slack/events' && routes.slack) {
      if (refuseUnboundedBody(req, res)) return;
      return routes.slack(req, res);
    }
    if (path === '/api/messages' && routes.teams) return routes.teams(req, res);
    if (!['/healthz', '/readyz', '/metrics'].includes(path ?? '')) return send(res, 404, { error: 'not_found' });
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method_not_allowed' });
    if (path === '/healthz') return send(res, 200, { status: 'ok' });
    if (path === '/readyz') {
      const results: Record<string, string> = {};
      let ok = true;
      await Promise.all(
        Object.entries(routes.ready).map(async ([name, probe]) => {
          try {
            await withTimeout(probe(), READY_PROBE_TIMEOUT_MS, name);
            results[name] = 'ok';
          } catch (e) {
            ok = false;
            results[name] = 'failing';
            routes.logger.warn({ err: e, probe: name }, 'readiness probe failed');
          }
        }),
      );
      return send(res, ok ? 200 : 503, { status: ok ? 'ready' : 'not_ready', checks: results });
    }
    if (path === '/metrics') {
      if (!routes.moreMetrics) return send(res, 200, await routes.metrics.registry.metrics(), routes.metrics.registry.contentType);
      // prom-client's AggregatorRegistry sums counters, histograms and gauges of the same name and labels.
      const [own, more] = await Promise.all([routes.metrics.registry.getMetricsAsJSON(), routes.moreMetrics()]);
      const merged = AggregatorRegistry.aggregate([own, more]);
      return send(res, 200, await merged.metrics(), merged.contentType);
    }
    return send(res, 404, { error: 'not_found' });
  };
  const limits = { ...REQUEST_LIMITS, ...routes.limits };
  const options: http.ServerOptions = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: limits.checkEveryMs,
  };
  const server = http.createServer(options, (req, res) => {
    // Stopping: answer, then close the connection (a kept-alive connection would otherwise bring more requests).
    if (stopping.has(server)) res.setHeader('Connection', 'close');
    handler(req, res).catch((err) => {
      routes.logger.error({ err }, 'http handler failed');
      if (!res.headersSent) send(res, 500, { error: 'internal' });
      else res.end();
    });
  });
  // Slack and load balancers keep connections alive; don't let idle sockets hold shutdown forever.
  server.keepAliveTimeout = 65_000;
  return server;
}

/**
 * Listens on `host:port`. A failure the operator can fix becomes a StartupError that names PORT/HOST:
 * EADDRINUSE (another program has the port), EACCES (a port below 1024 without the right), EADDRNOTAVAIL /
 * ENOTFOUND (HOST is not an address of this machine).
 */
export async function listen(server: http.Server, port: number, host: string): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(listenError(err, port, host));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}

function listenError(err: NodeJS.ErrnoException, port: number, host: string): Error {
  const vars = { port, host, reason: reasonOf(err) };
  switch (err.code) {
    case 'EADDRINUSE':
      return new StartupError('startup.http.in_use', vars, { cause: err });
    case 'EACCES':
      return new StartupError('startup.http.denied', vars, { cause: err });
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new StartupError('startup.http.bad_host', vars, { cause: err });
    default:
      return new StartupError('startup.http.other', vars, { cause: err });
  }
}

/** Servers that `close()` was called on. */
const stopping = new WeakSet<http.Server>();
/** How often a stopping server closes the kept-alive connections that have become idle. */
const IDLE_SWEEP_MS = 100;

/**
 * Stops accepting connections and resolves once every connection has closed. Node's `server.close()` leaves
 * a kept-alive connection open while it carries a request (and keeps serving further requests on it), so:
 * every response from now on says `Connection: close`, and connections are closed as soon as they are idle.
 */
export async function close(server: http.Server): Promise<void> {
  stopping.add(server);
  const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
  sweep.unref();
  try {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
  } finally {
    clearInterval(sweep);
  }
}
