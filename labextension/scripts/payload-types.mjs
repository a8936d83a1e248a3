// Generates src/payload.ts, the TypeScript types of the preview payload, from its JSON Schema
// (../kfp_nbsecrets/schemas/pipeline-ir.v1.schema.json) with json-schema-to-typescript.
// Run: npm run schema:types. test/payload.test.ts checks that the committed file is current.
import { compile } from 'json-schema-to-typescript';
import { readFileSync, writeFileSync } from 'fs';
import { dirname, join } from 'path';
import { fileURLToPath } from 'url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const SCHEMA = join(root, '..', 'kfp_nbsecrets', 'schemas', 'pipeline-ir.v1.schema.json');
export const OUTPUT = join(root, 'src', 'payload.ts');

const BANNER = `/**
 * The preview payload's types, generated from kfp_nbsecrets/schemas/pipeline-ir.v1.schema.json
 * by json-schema-to-typescript. Do not edit: change the schema, then run \`npm run schema:types\`.
 */`;

/** The text of src/payload.ts for the schema as it is now. */
export async function generate() {
  const schema = JSON.parse(readFileSync(SCHEMA, 'utf8'));
  return compile(schema, 'Payload', {
    bannerComment: BANNER,
    additionalProperties: false,
    unreachableDefinitions: false,
    ignoreMinAndMaxItems: true,
    format: true,
    style: { singleQuote: true, printWidth: 110 }
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(OUTPUT, await generate());
  console.log(`wrote ${OUTPUT}`);
}
