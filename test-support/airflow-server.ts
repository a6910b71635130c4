/**
 * A local stand-in for Airflow's REST API that records what it received: method, path, headers,
 * body. `answers` decides each reply in turn (status, JSON body); the last one repeats.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface AirflowStandIn {
  url: string;
  received: ReceivedRequest[];
  close(): Promise<void>;
}

export async function startAirflowStandIn(
  answers: readonly { status: number; body?: unknown }[] = [{ status: 200 }],
): Promise<AirflowStandIn> {
  const received: ReceivedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // kept as text
      }
      received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      const answer = answers[Math.min(received.length, answers.length) - 1] ?? { status: 200 };
      const reply =
        answer.body ??
        (answer.status < 300
          ? { dag_run_id: (body as { dag_run_id?: string }).dag_run_id, state: 'queued' }
          : { detail: `stand-in answer ${answer.status}`, status: answer.status });
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
