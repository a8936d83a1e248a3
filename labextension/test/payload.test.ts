// @vitest-environment node
import { readFileSync } from 'fs';
import { describe, expect, it } from 'vitest';

import { generate, OUTPUT } from '../scripts/payload-types.mjs';

describe('payload types', () => {
  it('src/payload.ts is what the JSON Schema generates (npm run schema:types)', async () => {
    expect(readFileSync(OUTPUT, 'utf8')).toBe(await generate());
  });
});
