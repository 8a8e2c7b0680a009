import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { Connection } from '@temporalio/client';
import { startEmbeddedDatabase } from '../../db/embedded-database.js';
import { ensureTemporalCli } from '../../scripts/temporal-cli.js';
import { startTemporalDevServer } from '../../scripts/temporal-dev-server.js';
import { freePort } from '../helpers/local-infrastructure.js';

/** `flywheel dev` restarts the servers it started when they die, and says so. */
describe('flywheel dev supervises its servers', () => {
  const homes: string[] = [];
  const home = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'flywheel-supervise-'));
    homes.push(dir);
    return dir;
  };
  after(() => {
    for (const dir of homes) rmSync(dir, { recursive: true, force: true });
  });

  const until = async (what: string, check: () => Promise<boolean> | boolean, seconds = 90) => {
    for (let i = 0; i < seconds * 4; i++) {
      if (await check()) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.fail(`${what} within ${seconds} s`);
  };

  it('a Temporal dev server killed with SIGKILL is started again on the same state', async () => {
    const lines: string[] = [];
    const dir = home();
    const server = await startTemporalDevServer({
      cli: await ensureTemporalCli(() => undefined),
      home: dir,
      port: await freePort(),
      uiPort: await freePort(),
      log: (line) => lines.push(line),
    });
    try {
      const pid = Number(readFileSync(path.join(dir, 'temporal.pid'), 'utf8'));
      process.kill(pid, 'SIGKILL');
      await until('the restart is reported', () => lines.some((l) => /is back at/.test(l)));
      assert.ok(
        lines.some((l) => /exited \(SIGKILL\); restarting it/.test(l)),
        lines.join('\n'),
      );
      assert.notEqual(Number(readFileSync(path.join(dir, 'temporal.pid'), 'utf8')), pid, 'a new process');
      const connection = await Connection.connect({ address: server.address });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
    } finally {
      await server.stop();
    }
  });

  it('an embedded PostgreSQL killed with SIGKILL is started again, and its data is still there', async () => {
    const lines: string[] = [];
    const dataDir = path.join(home(), 'pg');
    const db = await startEmbeddedDatabase({
      dataDir,
      port: await freePort(),
      persistent: false,
      onRestart: (line) => lines.push(line),
    });
    const query = async (text: string) => {
      const client = new pg.Client({ connectionString: db.url });
      client.on('error', () => undefined);
      await client.connect();
      try {
        return await client.query<{ n: number }>(text);
      } finally {
        await client.end().catch(() => undefined);
      }
    };
    try {
      await query('create table kept (n int); insert into kept values (42)');
      const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      process.kill(pid, 'SIGKILL');
      await until('PostgreSQL answers again', async () => {
        try {
          return (await query('select n from kept')).rows[0]?.n === 42;
        } catch {
          return false;
        }
      });
      assert.ok(
        lines.some((l) => /is gone; starting it again/.test(l)),
        lines.join('\n'),
      );
      assert.ok(
        lines.some((l) => /is back on port/.test(l)),
        lines.join('\n'),
      );
    } finally {
      await db.stop();
    }
  });
});
