import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { APP_MARK, META_TABLE, SCHEMA_VERSION, createMeta, migrations } from '../../src/store/schema.js';
import { PG_URL, dropSchema, uniqueSchema } from './postgres-helpers.js';

const schemas: string[] = [];
afterEach(async () => {
  for (const schema of schemas.splice(0)) await dropSchema(schema);
});

async function withClient<T>(schema: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`SET search_path = ${schema}`);
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe('PostgreSQL migrations', () => {
  it('brings a version 2 schema to the current version and drops the index that duplicated the calls key', async () => {
    const schema = uniqueSchema();
    schemas.push(schema);
    // A schema as version 2 made it: migrations 1 and 2, with calls_by_end.
    await withClient(schema, async (client) => {
      await client.query(createMeta());
      await client.query(`INSERT INTO ${META_TABLE} (key, value) VALUES ('app', $1)`, [APP_MARK]);
      for (const sql of [...migrations('postgres')[0]!, ...migrations('postgres')[1]!]) await client.query(sql);
      await client.query('CREATE INDEX calls_by_end ON calls (end_ms)');
      await client.query(`INSERT INTO ${META_TABLE} (key, value) VALUES ('schema_version', '2')`);
    });
    const store = await PostgresStore.open(PG_URL, { schema });
    const info = await store.info();
    await store.close();
    expect(info.schema_version).toBe(SCHEMA_VERSION);
    const indexes = await withClient(schema, async (client) =>
      (await client.query<{ indexname: string }>('SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2', [schema, 'calls'])).rows.map((r) => r.indexname),
    );
    expect(indexes).not.toContain('calls_by_end');
    expect(indexes).toContain('calls_by_run');
  });
});
