/**
 * Avro through a Confluent-API schema registry (`@kafkajs/confluent-schema-registry`): subjects
 * registered with an explicit compatibility level, values encoded in the Confluent wire format
 * (magic byte 0, 4-byte big-endian schema id, Avro body).
 */
import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { DriftlineError, ErrorCode } from '../errors.ts';
import type { FeatureSpec } from '../feature-spec.ts';

export type Compatibility = keyof typeof COMPATIBILITY;

export interface RegistryOptions {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
}

export interface MessageOrigin {
  topic: string;
  partition: number;
  offset: string;
}

/**
 * `timestamp-millis` as a JavaScript Date on both sides (avsc leaves logical types as plain
 * longs unless told otherwise). Numbers are accepted on encode, so callers holding epoch
 * milliseconds need not allocate a Date.
 */
class TimestampMillis extends avro.types.LogicalType {
  override _fromValue(value: unknown): Date {
    return new Date(Number(value));
  }
  override _toValue(value: unknown): number | undefined {
    if (value instanceof Date) return value.getTime();
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    return undefined;
  }
  override _resolve(type: avro.Type): ((value: unknown) => unknown) | undefined {
    if (avro.Type.isType(type, 'long', 'int', 'logical:timestamp-millis')) return this._fromValue.bind(this);
    return undefined;
  }
}

const AVRO_OPTIONS = { logicalTypes: { 'timestamp-millis': TimestampMillis } };

/** Bytes 1–4 of a Confluent-framed message: the registry's schema id. */
export function schemaIdOf(message: Buffer): number {
  if (message.length < 5 || message[0] !== 0) {
    throw new DriftlineError(ErrorCode.DECODE_FAILED, 'Message is not in the Confluent wire format (no magic byte 0)', {
      details: { length: message.length, firstByte: message[0] },
    });
  }
  return message.readUInt32BE(1);
}

export class AvroCodec {
  private readonly registry: SchemaRegistry;
  private readonly url: string;
  private readonly authHeader: string | undefined;
  /** Writer types by schema id, once the registry client has fetched them. */
  private readonly knownTypes = new Map<number, avro.Type>();

  constructor(options: RegistryOptions) {
    this.url = options.url.replace(/\/+$/, '');
    const auth =
      options.username !== undefined ? { username: options.username, password: options.password ?? '' } : undefined;
    this.authHeader = auth ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` : undefined;
    this.registry = new SchemaRegistry({ host: this.url, ...(auth ? { auth } : {}) }, {
      [SchemaType.AVRO]: AVRO_OPTIONS,
    } as never);
  }

  /**
   * Registers `schema` under `subject` and returns its id. The subject's compatibility level is
   * set first, so the registry itself refuses an incompatible change (SCHEMA_REJECTED) before
   * anything is produced with it.
   */
  async register(subject: string, schema: object, compatibility: Compatibility = 'BACKWARD'): Promise<number> {
    await this.setCompatibility(subject, compatibility);
    try {
      const { id } = await this.registry.register(
        { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
        { subject, compatibility: COMPATIBILITY[compatibility] },
      );
      return id;
    } catch (error) {
      throw registryError(`Registering a schema under subject ${subject} failed`, error, { subject });
    }
  }

  async encode(schemaId: number, value: unknown): Promise<Buffer> {
    try {
      return await this.registry.encode(schemaId, value);
    } catch (error) {
      if (isHttpError(error)) throw registryError(`Fetching schema ${schemaId} failed`, error, { schemaId });
      throw new DriftlineError(ErrorCode.ENCODE_FAILED, `Value does not match schema ${schemaId}`, {
        cause: error,
        details: { schemaId, paths: (error as { paths?: unknown }).paths },
      });
    }
  }

  /**
   * Decodes without a promise when the writer schema was met before (every message but the
   * first of a schema): `undefined` means not yet, use `decode`. Throws DECODE_FAILED as `decode` does.
   */
  decodeKnown<T = unknown>(message: Buffer, origin?: MessageOrigin): { value: T } | undefined {
    const schemaId = schemaIdOf(message);
    const type = this.knownTypes.get(schemaId);
    if (type === undefined) return undefined;
    try {
      // From byte 5 in place (no view of the payload to allocate); `fromBuffer`'s checks kept:
      // the value must end exactly at the message's end.
      const { value, offset } = type.decode(message, 5);
      if (offset !== message.length) {
        throw new Error(offset < 0 ? 'truncated message' : `${message.length - offset} bytes after the value`);
      }
      return { value: value as T };
    } catch (error) {
      throw new DriftlineError(ErrorCode.DECODE_FAILED, `Cannot decode message with schema ${schemaId}`, {
        cause: error,
        details: { schemaId, ...origin },
      });
    }
  }

  /** Decodes a Confluent-framed Avro message; `origin` goes into the error for dead-lettering. */
  async decode<T = unknown>(message: Buffer, origin?: MessageOrigin): Promise<T> {
    const schemaId = schemaIdOf(message);
    try {
      const value = (await this.registry.decode(message)) as T;
      if (!this.knownTypes.has(schemaId)) {
        // Now in the client's cache: the same avsc type it decodes with, for decodeKnown.
        this.knownTypes.set(schemaId, (await this.registry.getSchema(schemaId)) as unknown as avro.Type);
      }
      return value;
    } catch (error) {
      // The client reports a network failure as HTTP 400, like a refusal: ask the registry
      // directly whether it knows the schema before blaming the message.
      if (isHttpError(error) && !(await this.schemaReachable(schemaId))) {
        throw new DriftlineError(ErrorCode.REGISTRY_UNAVAILABLE, `Schema registry at ${this.url} is unreachable`, {
          cause: error,
          retriable: true,
          details: { schemaId, ...origin },
        });
      }
      throw new DriftlineError(ErrorCode.DECODE_FAILED, `Cannot decode message with schema ${schemaId}`, {
        cause: error,
        details: { schemaId, ...origin },
      });
    }
  }

  /** True when the registry answers for the schema id (even "not found"); false when it is down. */
  private async schemaReachable(schemaId: number): Promise<boolean> {
    try {
      const response = await fetch(`${this.url}/schemas/ids/${schemaId}`, {
        headers: this.authHeader ? { authorization: this.authHeader } : {},
        signal: AbortSignal.timeout(10_000),
      });
      await response.body?.cancel();
      return response.status < 500;
    } catch {
      return false;
    }
  }

  /**
   * The features of a prediction event's writer schema (the `features` record), as a feature
   * spec: what a consumer needs to create or extend a predictions table without knowing the
   * model in advance.
   */
  async featuresOf(schemaId: number): Promise<FeatureSpec[]> {
    let schema: unknown;
    try {
      schema = await this.registry.getSchema(schemaId);
    } catch (error) {
      throw registryError(`Fetching schema ${schemaId} failed`, error, { schemaId });
    }
    const record = schema as { fields?: { name: string; type: avro.Type }[] };
    const features = record.fields?.find((f) => f.name === 'features')?.type as
      | { fields?: { name: string; type: avro.Type }[] }
      | undefined;
    if (!features?.fields) {
      throw new DriftlineError(ErrorCode.DECODE_FAILED, `Schema ${schemaId} has no features record`, {
        details: { schemaId },
      });
    }
    return features.fields.map((field) => featureOf(field.name, field.type, schemaId));
  }

  async latestSchemaId(subject: string): Promise<number> {
    try {
      return await this.registry.getLatestSchemaId(subject);
    } catch (error) {
      throw registryError(`Looking up subject ${subject} failed`, error, { subject });
    }
  }

  private async setCompatibility(subject: string, compatibility: Compatibility): Promise<void> {
    let response: Response;
    try {
      response = await fetch(`${this.url}/config/${encodeURIComponent(subject)}`, {
        method: 'PUT',
        headers: {
          'content-type': 'application/vnd.schemaregistry.v1+json',
          ...(this.authHeader ? { authorization: this.authHeader } : {}),
        },
        body: JSON.stringify({ compatibility }),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new DriftlineError(ErrorCode.REGISTRY_UNAVAILABLE, `Schema registry at ${this.url} is unreachable`, {
        cause: error,
        retriable: true,
      });
    }
    if (!response.ok) {
      const body = await response.text().catch(() => '');
      throw new DriftlineError(
        response.status >= 500 ? ErrorCode.REGISTRY_UNAVAILABLE : ErrorCode.SCHEMA_REJECTED,
        `Setting compatibility ${compatibility} on subject ${subject} failed: HTTP ${response.status} ${body}`,
        { retriable: response.status >= 500, details: { subject, status: response.status } },
      );
    }
  }
}

function featureOf(name: string, type: avro.Type, schemaId: number): FeatureSpec {
  const branches = avro.Type.isType(type, 'union') ? (type as unknown as { types: avro.Type[] }).types : [type];
  const optional = branches.some((t) => avro.Type.isType(t, 'null'));
  const value = branches.find((t) => !avro.Type.isType(t, 'null'));
  if (value && avro.Type.isType(value, 'double', 'float', 'int', 'long')) return { name, type: 'double', optional };
  if (value && avro.Type.isType(value, 'string', 'enum')) return { name, type: 'string', optional };
  throw new DriftlineError(
    ErrorCode.DECODE_FAILED,
    `Feature ${name} of schema ${schemaId} is neither numeric nor string`,
    {
      details: { schemaId, feature: name },
    },
  );
}

function isHttpError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && typeof (error as { status?: unknown }).status === 'number';
}

/** Registry answers: 409/422 are refusals of the schema; 5xx and network failures are outages. */
function registryError(message: string, error: unknown, details: Record<string, unknown>): DriftlineError {
  const status = isHttpError(error) ? (error as { status: number }).status : undefined;
  const reason = error instanceof Error ? error.message : String(error);
  if (status !== undefined && status < 500) {
    return new DriftlineError(ErrorCode.SCHEMA_REJECTED, `${message}: ${reason}`, {
      cause: error,
      details: { ...details, status },
    });
  }
  return new DriftlineError(ErrorCode.REGISTRY_UNAVAILABLE, `${message}: ${reason}`, {
    cause: error,
    retriable: true,
    details: { ...details, status },
  });
}
