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
  repeated Event events = 11; Status status = 15; fixed32 flags = 16;
}
message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; }
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
`;

const root = protobuf.parse(OTLP_TRACE_PROTO).root;
const Request = root.lookupType('otlp.ExportTraceServiceRequest');

function base64ToHex(value: unknown): unknown {
  return typeof value === 'string' ? Buffer.from(value, 'base64').toString('hex') : value;
}

/**
 * Decodes an OTLP protobuf body into the OTLP/JSON shape (camelCase fields, hex trace and
 * span IDs, 64-bit numbers as strings), so both encodings share one mapping.
 */
export function decodeOtlpProtobuf(body: Uint8Array): unknown {
  const message = Request.decode(body);
  const json = Request.toObject(message, { longs: String, bytes: String, enums: Number, oneofs: false }) as {
    resourceSpans?: { scopeSpans?: { spans?: Record<string, unknown>[] }[] }[];
  };
  for (const rs of json.resourceSpans ?? [])
    for (const ss of rs.scopeSpans ?? [])
      for (const span of ss.spans ?? [])
        for (const key of ['traceId', 'spanId', 'parentSpanId']) span[key] = base64ToHex(span[key]);
  return json;
}

/** The inverse, for tests and the benchmark's load generator. */
export function encodeOtlpProtobuf(json: unknown): Uint8Array {
  const copy = structuredClone(json) as {
    resourceSpans?: { scopeSpans?: { spans?: Record<string, unknown>[] }[] }[];
  };
  for (const rs of copy.resourceSpans ?? [])
    for (const ss of rs.scopeSpans ?? [])
      for (const span of ss.spans ?? [])
        for (const key of ['traceId', 'spanId', 'parentSpanId'])
          if (typeof span[key] === 'string') span[key] = Buffer.from(span[key], 'hex').toString('base64');
  return Request.encode(Request.fromObject(copy)).finish();
}
