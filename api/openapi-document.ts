import type { FastifyInstance } from 'fastify';
import { Client, Connection } from '@temporalio/client';
import { connectDatabase } from '../db/connection.js';
import { apiDeps, buildApi } from './http-server.js';

/**
 * The API's OpenAPI document, produced in-process from the route table without a database
 * or a Temporal server: building the routes connects to neither (the pool and the Temporal
 * connection are lazy and never used here). The console's typed client is generated from
 * it (scripts/console-api-types.ts), and a unit test checks the generated file is current.
 */
export async function openApiDocument(): Promise<ReturnType<FastifyInstance['swagger']>> {
  const db = connectDatabase('postgres://openapi-document.invalid/none');
  const temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
  const { app } = await buildApi(apiDeps(db, temporal));
  try {
    return app.swagger();
  } finally {
    await app.close();
    await db.destroy();
  }
}
