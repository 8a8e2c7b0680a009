import type { PayloadCodec } from '@temporalio/common';
import { CODEC_ACTIONS, CodecRequest, handleCodecRequest } from '../workers/codec-server.js';
import type { ApiRoute } from './api-route.js';

export interface CodecRouteDeps {
  /** The API client's codec chain (workers/codec-server.ts clientPayloadCodec): the keys it has. */
  codec: PayloadCodec;
}

/** Where the Temporal Web UI and `temporal … --codec-endpoint` are pointed: `<API>/api/codec`. */
export const CODEC_PATH = '/api/codec';

/**
 * The Temporal codec server: the Web UI posts a history's payloads to `/decode` to show them
 * in plain text, and a workflow's input to `/encode` before starting or signalling one. Who
 * may call /decode reads every history, so both need an admin. Browsers call them from the
 * UI's origin (CORS in http-server.ts) with the console's session cookie; the UI cannot send
 * X-CSRF-Token, and needs none here: these POSTs change nothing.
 */
export function codecRoutes(deps: CodecRouteDeps): ApiRoute[] {
  return CODEC_ACTIONS.map((action): ApiRoute => ({
    method: 'POST',
    url: `${CODEC_PATH}/${action}`,
    tag: 'codec',
    summary:
      action === 'decode'
        ? 'Temporal codec server: decrypt payloads ({"payloads": [...]}, protobuf JSON) for the Web UI or CLI.'
        : 'Temporal codec server: encrypt payloads ({"payloads": [...]}, protobuf JSON) with the active key.',
    auth: { role: 'admin' },
    csrfExempt: true,
    schema: { body: CodecRequest },
    handler: async (r) => ({ status: 200, body: await handleCodecRequest(deps.codec, action, r.json()) }),
  }));
}
