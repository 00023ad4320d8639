/**
 * Starts the console's HTTP server on 127.0.0.1 (never another interface) with fresh secrets, and
 * returns its URL (token included) and a close function.
 */
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import type { StackContext } from '../context';
import { createConsoleApp } from './app';
import { loadAssets } from './assets';
import { newSecret } from './security';

export const CONSOLE_HOST = '127.0.0.1';
export const DEFAULT_CONSOLE_PORT = 4680;

export interface ConsoleOptions {
  readonly stack: StackContext;
  /** 0 for any free port. */
  readonly port: number;
  readonly readOnly: boolean;
  readonly metricsNamespace: string;
  readonly refreshSeconds: number;
  readonly target: string;
  /** DLQ messages shown per page. @default 100 */
  readonly dlqLimit?: number;
  /** One line per change made and per unexpected error. @default - none */
  readonly log?: (line: string) => void;
}

export interface RunningConsole {
  /** The URL to open, with the token. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const assets = loadAssets();
  const token = newSecret();
  const csrf = newSecret();
  let app: Hono | undefined;
  const server = createAdaptorServer({
    fetch: (request: Request) =>
      app ? app.fetch(request) : new Response('The console is starting\n', { status: 503 }),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, CONSOLE_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  app = createConsoleApp({ ...options, port, token, csrf, assets });
  return {
    url: `http://${CONSOLE_HOST}:${port}/?token=${token}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
