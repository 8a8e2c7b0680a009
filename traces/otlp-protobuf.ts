import protobuf from 'protobufjs';

// The subset of opentelemetry-proto (trace/v1, common/v1, resource/v1) that trace ingest
// reads, written from the published field numbers. Unknown fields are skipped by the
// decoder, so exporters on newer proto versions still decode.
const OTLP_TRACE_PROTO = `
syntax = "proto3";
package otlp;
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4;
  string name = 5; int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; uint32 dropped_attributes_count = 10;
  repeated Event events = 11; uint32 dropped_events_count = 12;
  repeated Link links = 13; uint32 dropped_links_count = 14; Status status = 15; fixed32 flags = 16;
}
message Event {
  fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3;
  uint32 dropped_attributes_count = 4;
}
message Link {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated KeyValue attributes = 4;
  uint32 dropped_attributes_count = 5; fixed32 flags = 6;
}
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value {
    string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4;
    ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; string schema_url = 3; }
message ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; string schema_url = 3; }
message LogRecord {
  fixed64 time_unix_nano = 1; int32 severity_number = 2; string severity_text = 3; AnyValue body = 5;
  repeated KeyValue attributes = 6; uint32 dropped_attributes_count = 7; fixed32 flags = 8;
  bytes trace_id = 9; bytes span_id = 10; fixed64 observed_time_unix_nano = 11; string event_name = 12;
}
message ExportLogsServiceResponse { ExportLogsPartialSuccess partial_success = 1; }
message ExportLogsPartialSuccess { int64 rejected_log_records = 1; string error_message = 2; }
message ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1; }
message ExportTracePartialSuccess { int64 rejected_spans = 1; string error_message = 2; }
message RpcStatus { int32 code = 1; string message = 2; }
`;

const root = protobuf.parse(OTLP_TRACE_PROTO).root;
const Request = root.lookupType('otlp.ExportTraceServiceRequest');
const Response = root.lookupType('otlp.ExportTraceServiceResponse');
const LogsRequest = root.lookupType('otlp.ExportLogsServiceRequest');
const LogsResponse = root.lookupType('otlp.ExportLogsServiceResponse');
const RpcStatus = root.lookupType('otlp.RpcStatus');

type JsonSpan = Record<string, unknown> & { links?: Record<string, unknown>[] };
type JsonRequest = { resourceSpans?: { scopeSpans?: { spans?: JsonSpan[] }[] }[] };

/** Every id field of the request (span, parent and link ids), for converting their encoding. */
function eachId(json: JsonRequest, convert: (value: unknown) => unknown): void {
  for (const rs of json.resourceSpans ?? [])
    for (const ss of rs.scopeSpans ?? [])
      for (const span of ss.spans ?? []) {
        for (const key of ['traceId', 'spanId', 'parentSpanId']) span[key] = convert(span[key]);
        for (const link of span.links ?? [])
          for (const key of ['traceId', 'spanId']) link[key] = convert(link[key]);
      }
}

/** Protobuf's bytes default to empty, which JSON spells as an absent field. */
function dropEmpty(value: unknown): unknown {
  return value === '' ? undefined : value;
}

function base64ToHex(value: unknown): unknown {
  return typeof value === 'string' ? Buffer.from(value, 'base64').toString('hex') : value;
}

/**
 * Decodes an OTLP protobuf body into the OTLP/JSON shape (camelCase fields, hex trace and
 * span IDs, 64-bit numbers as strings), so both encodings share one mapping.
 */
export function decodeOtlpProtobuf(body: Uint8Array): unknown {
  const message = Request.decode(body);
  const json = Request.toObject(message, {
    longs: String,
    bytes: String,
    enums: Number,
    oneofs: false,
  }) as JsonRequest;
  eachId(json, (v) => dropEmpty(base64ToHex(v)));
  return json;
}

/**
 * The OTLP answer to an export: empty when every span was kept, else how many were rejected
 * and why. The spec answers partial success with 200 and this message, so that exporters
 * neither retry the batch nor count it as lost.
 */
export function encodeExportResponse(partial?: { rejectedSpans: number; errorMessage: string }): Uint8Array {
  return Response.encode(
    Response.fromObject(partial === undefined ? {} : { partialSuccess: partial }),
  ).finish();
}

/** A failed request's body in protobuf (google.rpc.Status), as OTLP/HTTP answers errors. */
export function encodeRpcStatus(code: number, message: string): Uint8Array {
  return RpcStatus.encode(RpcStatus.fromObject({ code, message })).finish();
}

/** For tests: read an answer the way an exporter does. */
export function decodeExportResponse(
  body: Uint8Array,
): { rejectedSpans: number; errorMessage: string } | undefined {
  const json = Response.toObject(Response.decode(body), { longs: Number, defaults: false }) as {
    partialSuccess?: { rejectedSpans?: number; errorMessage?: string };
  };
  if (json.partialSuccess === undefined) return undefined;
  return {
    rejectedSpans: json.partialSuccess.rejectedSpans ?? 0,
    errorMessage: json.partialSuccess.errorMessage ?? '',
  };
}

export function decodeRpcStatus(body: Uint8Array): { code: number; message: string } {
  const json = RpcStatus.toObject(RpcStatus.decode(body), { defaults: true }) as {
    code: number;
    message: string;
  };
  return json;
}

/** The inverse, for tests and the benchmark's load generator. */
export function encodeOtlpProtobuf(json: unknown): Uint8Array {
  const copy = structuredClone(json) as JsonRequest;
  eachId(copy, (v) => (typeof v === 'string' ? Buffer.from(v, 'hex').toString('base64') : v));
  return Request.encode(Request.fromObject(copy)).finish();
}

type JsonLogsRequest = { resourceLogs?: { scopeLogs?: { logRecords?: Record<string, unknown>[] }[] }[] };

function eachLogId(json: JsonLogsRequest, convert: (value: unknown) => unknown): void {
  for (const rl of json.resourceLogs ?? [])
    for (const sl of rl.scopeLogs ?? [])
      for (const record of sl.logRecords ?? [])
        for (const key of ['traceId', 'spanId']) record[key] = convert(record[key]);
}

/** An OTLP ExportLogsServiceRequest protobuf in the OTLP/JSON shape, as for traces. */
export function decodeOtlpLogsProtobuf(body: Uint8Array): unknown {
  const json = LogsRequest.toObject(LogsRequest.decode(body), {
    longs: String,
    bytes: String,
    enums: Number,
    oneofs: false,
  }) as JsonLogsRequest;
  eachLogId(json, (v) => dropEmpty(base64ToHex(v)));
  return json;
}

export function encodeOtlpLogsProtobuf(json: unknown): Uint8Array {
  const copy = structuredClone(json) as JsonLogsRequest;
  eachLogId(copy, (v) => (typeof v === 'string' ? Buffer.from(v, 'hex').toString('base64') : v));
  return LogsRequest.encode(LogsRequest.fromObject(copy)).finish();
}

export function encodeLogsExportResponse(partial?: {
  rejectedLogRecords: number;
  errorMessage: string;
}): Uint8Array {
  return LogsResponse.encode(
    LogsResponse.fromObject(partial === undefined ? {} : { partialSuccess: partial }),
  ).finish();
}

export function decodeLogsExportResponse(
  body: Uint8Array,
): { rejectedLogRecords: number; errorMessage: string } | undefined {
  const json = LogsResponse.toObject(LogsResponse.decode(body), { longs: Number, defaults: false }) as {
    partialSuccess?: { rejectedLogRecords?: number; errorMessage?: string };
  };
  if (json.partialSuccess === undefined) return undefined;
  return {
    rejectedLogRecords: json.partialSuccess.rejectedLogRecords ?? 0,
    errorMessage: json.partialSuccess.errorMessage ?? '',
  };
}
