/**
 * What the service needs per model version before it may serve it: a request validator
 * compiled from that version's spec and preprocessing, and the version's prediction schema
 * registered with the sink (so its events are encoded with its own features). Each is built
 * once per version: for the starting version when the app gets ready, for a deployed one before
 * the swap, and for a version put in the slot directly (tests, benchmarks) on its first request.
 *
 * A deployment is refused, and the current version kept, when the new version belongs to
 * another model or the registry refuses its schema (a BACKWARD-incompatible feature change).
 */
import type { FastifySchemaCompiler } from 'fastify';
import { ErrorCode, isDriftlineError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { EventSink, ServingModel } from '../../model/scoring.ts';
import type { ModelSlot } from './model-slot.ts';
import { type AjvError, predictBodySchema, validationMessage } from './request-schema.ts';

/** A compiled request schema, as fastify's (Ajv's) validator compiler returns it. */
export type BodyValidator = ReturnType<FastifySchemaCompiler<unknown>>;

export interface PreparedVersion {
  /** The 400 message for a body this version does not accept; undefined when it accepts it. */
  check(body: unknown): string | undefined;
}

/** Why a deployment was not applied; the `reason` label of `driftline_deployments_refused_total`. */
export const REFUSAL_REASONS = ['wrong_model', 'schema_rejected', 'failed'] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export type DeployOutcome =
  | { applied: true; model: ServingModel }
  | { applied: false; reason: RefusalReason | 'already_serving'; message: string };

export interface ServingVersionsOptions {
  /** The model this service serves; versions of any other model are refused. */
  model: string;
  slot: ModelSlot;
  sink: EventSink;
  /** Compiles a request schema with the service's Ajv options. */
  compile(schema: object): BodyValidator;
  logger: Logger;
  onRefused(reason: RefusalReason): void;
}

export class ServingVersions {
  private readonly prepared = new WeakMap<ServingModel, Promise<PreparedVersion>>();
  private readonly log: Logger;

  constructor(private readonly options: ServingVersionsOptions) {
    this.log = options.logger.child({ component: 'deployments' });
  }

  /** The version's validator and registered schema, built on first use; a failure is retried next time. */
  prepare(model: ServingModel): Promise<PreparedVersion> {
    let prepared = this.prepared.get(model);
    if (!prepared) {
      prepared = this.build(model);
      this.prepared.set(model, prepared);
      prepared.catch(() => this.prepared.delete(model));
    }
    return prepared;
  }

  /**
   * Loads `version`, checks it and swaps it in; or refuses it, keeps serving the current version,
   * logs why and counts it. Never throws: a bad deployment must not take the service down.
   */
  async deploy(version: number, load: (version: number) => Promise<ServingModel>): Promise<DeployOutcome> {
    const { slot, model } = this.options;
    if (slot.current?.version === version) {
      return { applied: false, reason: 'already_serving', message: `version ${version} is already served` };
    }
    let next: ServingModel;
    try {
      next = await load(version);
    } catch (error) {
      return this.refuse('failed', version, `loading version ${version} failed (${errorMessage(error)})`, error);
    }
    const owner = next.name !== model ? next.name : next.spec.model;
    if (owner !== model) {
      next.dispose();
      return this.refuse('wrong_model', version, `version ${version} is of model ${owner}, not ${model}`);
    }
    try {
      await this.prepare(next);
    } catch (error) {
      next.dispose();
      const rejected = isDriftlineError(error, ErrorCode.SCHEMA_REJECTED);
      const why = rejected
        ? `the schema registry refused the prediction schema of version ${version} (${errorMessage(error)})`
        : `preparing version ${version} failed (${errorMessage(error)})`;
      return this.refuse(rejected ? 'schema_rejected' : 'failed', version, why, error);
    }
    slot.swap(next);
    this.log.info({ version: next.version }, 'model swapped');
    return { applied: true, model: next };
  }

  private async build(model: ServingModel): Promise<PreparedVersion> {
    // Compiled once per version, like a route schema: the hot path only runs it.
    const validate = this.options.compile(predictBodySchema(model.spec, model.preprocessing));
    await this.options.sink.registerVersion?.(model);
    return {
      check: (body) => (validate(body) === true ? undefined : validationMessage(ajvErrors(validate.errors))),
    };
  }

  private refuse(reason: RefusalReason, version: number, why: string, error?: unknown): DeployOutcome {
    const current = this.options.slot.current?.version ?? null;
    this.options.onRefused(reason);
    const message = `deployment refused: ${why}; still serving version ${current}`;
    this.log.error({ ...(error === undefined ? {} : { err: error }), version, reason, serving: current }, message);
    return { applied: false, reason, message };
  }
}

function ajvErrors(errors: unknown): AjvError[] {
  return Array.isArray(errors) ? (errors as AjvError[]) : [];
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
