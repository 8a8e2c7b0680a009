import { readFile } from 'node:fs/promises';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { TemporalSettings } from '../schemas/config.js';
import { flywheelDataConverter } from './data-converter.js';

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

/** A client whose payloads go through the payload codec, as the workers' do. */
export async function connectClient(settings: TemporalSettings): Promise<Client> {
  // Before connecting: a missing key is a configuration error, not an unreachable server.
  const dataConverter = flywheelDataConverter(settings.payloadEncryption);
  try {
    const connection = await Connection.connect({
      address: settings.address,
      tls: await tlsOptions(settings),
      ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
      connectTimeout: '5s',
    });
    return new Client({ connection, namespace: settings.namespace, dataConverter });
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
