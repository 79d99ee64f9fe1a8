import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { Store } from '../../src/store/store.js';

/** The machine's PostgreSQL (trust auth). Tests make their own schema and drop it. */
export const PG_URL = process.env.FLOWMETER_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';

export function uniqueSchema(prefix = 'fm_test'): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

export function postgresFactory(): { name: string; open: () => Promise<Store>; cleanup: () => Promise<void> } {
  const schemas: string[] = [];
  return {
    name: 'postgres',
    open: () => {
      const schema = uniqueSchema();
      schemas.push(schema);
      return PostgresStore.open(PG_URL, { schema });
    },
    cleanup: async () => {
      for (const schema of schemas.splice(0)) await dropSchema(schema);
    },
  };
}
