// The daemon's small HTTP endpoint: GET /healthz (JSON, 200 or 503) and GET /metrics
// (Prometheus text). Read-only, no request body is ever read; bound to 127.0.0.1 by default.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LdmError, errorMessage } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Health } from './health.js';
import type { Metrics } from './metrics.js';

export interface HttpEndpoint {
  host: string;
  port: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, type: string, body: string, head: boolean): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(head ? undefined : body);
}

export async function startHttp(opts: { host: string; port: number; health: Health; metrics: Metrics; log: Logger }): Promise<HttpEndpoint> {
  const { health, metrics, log } = opts;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => void handle(req, res));
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', false);
      return;
    }
    try {
      if (path === '/healthz') {
        const { httpStatus, body } = health.report();
        send(res, httpStatus, 'application/json; charset=utf-8', JSON.stringify(body, null, 2) + '\n', head);
      } else if (path === '/metrics') {
        send(res, 200, metrics.contentType, await metrics.render(), head);
      } else {
        send(res, 404, 'text/plain; charset=utf-8', 'not found: try /healthz or /metrics\n', head);
      }
    } catch (err) {
      log.error('http.error', { path, error: errorMessage(err) });
      send(res, 500, 'text/plain; charset=utf-8', 'internal error\n', head);
    }
  };
  // A scraper that stalls must not hold a socket for long.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new LdmError('HTTP_LISTEN', `cannot serve /healthz and /metrics on ${opts.host}:${opts.port}: ${err.code ?? err.message}; choose another http.port (or --http-port), or remove "http" from the config`, {
          exitCode: 2,
          cause: err,
        }),
      );
    });
    server.listen(opts.port, opts.host, () => resolve());
  });
  server.on('error', (err) => log.error('http.error', { error: errorMessage(err) }));
  const port = (server.address() as AddressInfo).port;
  log.info('http.listening', { host: opts.host, port, endpoints: ['/healthz', '/metrics'] });
  return {
    host: opts.host,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // idle keep-alive sockets would hold close() open
      }),
  };
}
