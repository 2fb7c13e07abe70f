import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import * as queries from './queries';

// The SDL the gateway checks in (its `sdl` test keeps it equal to the served schema).
const sdl = readFileSync(resolve(__dirname, '../../../../schemas/graphql/schema.graphql'), 'utf8');
const schema = buildSchema(sdl);

const documents = Object.entries(queries).filter(
  ([, v]) => typeof v === 'string' && /^\s*(query|mutation|subscription)\b/.test(v),
) as [string, string][];

describe('GraphQL documents', () => {
  it('are found', () => {
    expect(documents.length).toBeGreaterThan(10);
  });

  it.each(documents)('%s is valid against the checked-in schema', (_name, doc) => {
    const errors = validate(schema, parse(doc)).map((e) => e.message);
    expect(errors).toEqual([]);
  });
});
