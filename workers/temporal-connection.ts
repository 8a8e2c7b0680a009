import { readFile } from 'node:fs/promises';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { TemporalSettings } from '../schemas/config.js';

async function tlsOptions(settings: TemporalSettings) {
  if (!settings.tls) return settings.apiKey ? true : undefined;
  const { certPath, keyPath, caPath } = settings.tls;
  return {
    ...(certPath && keyPath
      ? { clientCertPair: { crt: await readFile(certPath), key: await readFile(keyPath) } }
      : {}),
    ...(caPath ? { serverRootCACertificate: await readFile(caPath) } : {}),
  };
}

function unreachable(settings: TemporalSettings, error: unknown): Error {
  return new Error(
    `Cannot reach Temporal at ${settings.address} (namespace ${settings.namespace}): ${error instanceof Error ? error.message : String(error)}. ` +
      'Start the stack with `npm start`, or set TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE (and TEMPORAL_API_KEY or TEMPORAL_TLS_CERT/KEY for Temporal Cloud).',
  );
}

export async function connectClient(settings: TemporalSettings): Promise<Client> {
  try {
    const connection = await Connection.connect({
      address: settings.address,
      tls: await tlsOptions(settings),
      ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
      connectTimeout: '5s',
    });
    return new Client({ connection, namespace: settings.namespace });
  } catch (error) {
    throw unreachable(settings, error);
  }
}

export async function connectNative(settings: TemporalSettings): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect({
      address: settings.address,
      tls: await tlsOptions(settings),
      ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
    });
  } catch (error) {
    throw unreachable(settings, error);
  }
}
