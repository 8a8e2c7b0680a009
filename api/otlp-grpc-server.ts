import * as grpc from '@grpc/grpc-js';
import { isDatabaseUnavailable } from '../db/database-unavailable.js';
import { UserError } from '../schemas/user-error.js';
import {
  decodeOtlpLogsProtobuf,
  decodeOtlpProtobuf,
  encodeExportResponse,
  encodeLogsExportResponse,
} from '../traces/otlp-protobuf.js';
import type { ApiDeps } from './http-server.js';
import { DEFAULT_MAX_BODY_BYTES } from './http-server.js';
import { authenticateAgentToken } from './bearer-auth.js';
import { exportLogs, exportTraces } from './otlp-export.js';

/**
 * OTLP over gRPC (the exporters' default protocol, port 4317): the TraceService and
 * LogsService Export methods, on the same ingest as `POST /v1/traces` and `/v1/logs`. The
 * messages are decoded with the project's own OTLP protobuf types; @grpc/grpc-js carries
 * them. Authentication is the `authorization: Bearer <agent token>` metadata an exporter sends
 * as a header; answers follow the OTLP spec: OK with `partial_success` when some items were
 * rejected, INVALID_ARGUMENT for a body that is not an export request, UNAVAILABLE (which
 * exporters retry) while the database is away.
 */

type Bytes = Buffer;
const passthrough = {
  requestSerialize: (b: Bytes) => b,
  requestDeserialize: (b: Bytes) => b,
  responseSerialize: (b: Bytes) => b,
  responseDeserialize: (b: Bytes) => b,
};

const method = (path: string) => ({ path, requestStream: false, responseStream: false, ...passthrough });

export const OTLP_GRPC_SERVICES = {
  traces: { Export: method('/opentelemetry.proto.collector.trace.v1.TraceService/Export') },
  logs: { Export: method('/opentelemetry.proto.collector.logs.v1.LogsService/Export') },
} satisfies Record<string, grpc.ServiceDefinition>;

class GrpcFailure extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

function statusOf(error: unknown): { code: grpc.status; details: string } {
  const details = error instanceof Error ? error.message : String(error);
  if (error instanceof GrpcFailure) return { code: error.code, details };
  if (error instanceof UserError)
    return {
      code:
        error.code === 'unauthorized'
          ? grpc.status.UNAUTHENTICATED
          : error.code === 'payload_too_large'
            ? grpc.status.RESOURCE_EXHAUSTED
            : error.status === 403
              ? grpc.status.PERMISSION_DENIED
              : grpc.status.INVALID_ARGUMENT,
      details,
    };
  if (isDatabaseUnavailable(error))
    return { code: grpc.status.UNAVAILABLE, details: `the database is unavailable (${details}); retry` };
  return { code: grpc.status.INTERNAL, details };
}

export interface OtlpGrpcServer {
  address: string;
  close(): Promise<void>;
}

export async function startOtlpGrpcServer(
  deps: ApiDeps,
  port: number,
  host = '127.0.0.1',
): Promise<OtlpGrpcServer> {
  const limit = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': limit,
  });

  // The same check as the HTTP API (statusOf maps its errors to UNAUTHENTICATED and
  // PERMISSION_DENIED); only a missing token is worded for gRPC, where metadata keys are lowercase.
  const agentOf = async (metadata: grpc.Metadata): Promise<string> => {
    const header = String(metadata.get('authorization')[0] ?? '');
    if (header === '')
      throw new GrpcFailure(
        grpc.status.UNAUTHENTICATED,
        'send the metadata "authorization: Bearer <agent token>"; create one with `flywheel token create --agent <id>`',
      );
    return (await authenticateAgentToken(deps.principals, header, 'ingest')).agent;
  };

  const decode = (raw: Bytes, decoder: (b: Uint8Array) => unknown, what: string): unknown => {
    try {
      return decoder(raw);
    } catch (e) {
      throw new GrpcFailure(
        grpc.status.INVALID_ARGUMENT,
        `not an OTLP ${what} protobuf (${e instanceof Error ? e.message : String(e)})`,
      );
    }
  };

  const handler =
    (answer: (agent: string, raw: Bytes) => Promise<Uint8Array>): grpc.handleUnaryCall<Bytes, Bytes> =>
    (call, callback) => {
      agentOf(call.metadata)
        .then((agent) => answer(agent, call.request))
        .then(
          (body) => callback(null, Buffer.from(body)),
          (error: unknown) => {
            const { code, details } = statusOf(error);
            callback({ code, details });
          },
        );
    };

  server.addService(OTLP_GRPC_SERVICES.traces, {
    Export: handler(async (agent, raw) => {
      const body = decode(raw, decodeOtlpProtobuf, 'ExportTraceServiceRequest');
      return encodeExportResponse((await exportTraces(deps, body, agent)).partialSuccess);
    }),
  });
  server.addService(OTLP_GRPC_SERVICES.logs, {
    Export: handler(async (agent, raw) => {
      const body = decode(raw, decodeOtlpLogsProtobuf, 'ExportLogsServiceRequest');
      return encodeLogsExportResponse((await exportLogs(deps, body, agent)).partialSuccess);
    }),
  });

  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, p) =>
      error ? reject(error) : resolve(p),
    ),
  );
  return {
    address: `${host}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
      }),
  };
}
