import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../core/config.ts';
import { DriftlineError, ErrorCode } from '../core/errors.ts';
import { type DemoEvaluation, dashboardPort, versionsOf } from './demo.ts';
import { exitCodeOf, parseDemoArgs } from './demo-options.ts';

const config = parseConfig({});

function usageError(args: string[]): string {
  try {
    parseDemoArgs(args, config);
  } catch (error) {
    expect(error).toBeInstanceOf(DriftlineError);
    expect((error as DriftlineError).code).toBe(ErrorCode.USAGE);
    return (error as Error).message;
  }
  throw new Error(`expected a usage error for ${args.join(' ')}`);
}

describe('driftline demo arguments', () => {
  it('defaults to the loop in under 3 minutes: shift+concept on MedInc and AveRooms, 2,000 rows/s', () => {
    expect(parseDemoArgs([], config)).toEqual({
      rows: 12_000,
      afterRows: 7_200,
      rate: 2_000,
      driftShare: 0.25,
      epochs: 15,
      durationMs: 180_000,
      scenario: 'shift+concept',
      features: 'MedInc,AveRooms',
      filter: undefined,
      keepRunning: false,
    });
  });

  it('takes --duration in seconds or with s/m, --scenario, --features, --rate and --keep-running', () => {
    expect(parseDemoArgs(['--duration', '90'], config).durationMs).toBe(90_000);
    expect(parseDemoArgs(['--duration', '45s'], config).durationMs).toBe(45_000);
    expect(parseDemoArgs(['--duration=2.5m'], config).durationMs).toBe(150_000);
    const options = parseDemoArgs(
      ['--scenario', 'gradual', '--features', 'Latitude', '--rate', '500', '--keep-running'],
      config,
    );
    expect(options).toMatchObject({ scenario: 'gradual', features: 'Latitude', rate: 500, keepRunning: true });
  });

  it('refuses what it cannot run, naming the option', () => {
    expect(usageError(['--duration', '5'])).toContain('--duration must be at least 10 s');
    expect(usageError(['--duration', 'soon'])).toContain('--duration');
    expect(usageError(['--scenario', 'earthquake'])).toContain('--scenario must be one of');
    expect(usageError(['--features', 'Colour'])).toContain('unknown feature "Colour"');
    expect(usageError(['--scenario', 'subpopulation'])).toContain('needs --filter');
    expect(parseDemoArgs(['--scenario', 'subpopulation', '--filter', 'Latitude>=37.5'], config).filter).toBe(
      'Latitude>=37.5',
    );
    expect(usageError(['--rate', '0'])).toContain('--rate');
    expect(usageError(['--keep-running=yes'])).toContain('keep-running');
    expect(usageError(['--frobnicate'])).toContain('--frobnicate');
  });
});

describe('exitCodeOf', () => {
  it('reports a signal as shells do (128 + its number) and a finished or time-boxed run as 0', () => {
    expect(exitCodeOf('SIGINT')).toBe(130);
    expect(exitCodeOf('SIGTERM')).toBe(143);
    expect(exitCodeOf('duration')).toBe(0);
    expect(exitCodeOf(undefined)).toBe(0);
  });
});

describe('versionsOf', () => {
  const evaluation = (model_version: number, window_end_ms: number, state: string, drifted: string[] = []) =>
    ({
      model_version,
      window_end_ms,
      state,
      transition: 0,
      drifted_features: drifted,
      prediction_drifted: 0,
      retrain_recommended: state === 'drift' ? 1 : 0,
      performance_verdict: 'ok',
      rmse: null,
      report_path: null,
    }) satisfies DemoEvaluation;

  it("keeps each version's latest window and counts its windows, oldest version first", () => {
    const versions = versionsOf([
      evaluation(1, 1, 'ok'),
      evaluation(1, 2, 'drift', ['MedInc']),
      evaluation(2, 3, 'ok'),
      evaluation(1, 3, 'drift', ['MedInc', 'AveRooms']),
    ]);
    expect(versions).toEqual([
      {
        version: 1,
        state: 'drift',
        driftedFeatures: ['MedInc', 'AveRooms'],
        windows: 3,
        retrainRecommended: true,
        rmse: null,
        performance: 'ok',
      },
      {
        version: 2,
        state: 'ok',
        driftedFeatures: [],
        windows: 1,
        retrainRecommended: false,
        rmse: null,
        performance: 'ok',
      },
    ]);
  });
});

describe('dashboardPort', () => {
  const listening = (port: number) =>
    new Promise<Server>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port }, () => resolve(server));
    });

  it('keeps DASHBOARD_PORT while it is free, and asks for a free port (0) once something listens there', async () => {
    const holder = await listening(0);
    const port = (holder.address() as { port: number }).port;
    try {
      expect(await dashboardPort(port)).toEqual({ port: 0, taken: true });
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
    expect(await dashboardPort(port)).toEqual({ port, taken: false });
    expect(await dashboardPort(0)).toEqual({ port: 0, taken: false });
  });
});
