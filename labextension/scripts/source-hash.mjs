// Writes ../kfp_nbsecrets/labextension/build-source.sha256: a digest of what the build is made
// from (src/, style/, package.json, package-lock.json, webpack.config.js). tests/browser/test_labextension_build.py
// recomputes it in Python, so a source change without a rebuild fails the suite, without node.
// Digest: sha256 over sorted "relative/posix/path\0<sha256 hex of the file>\n" lines.
import { createHash } from 'crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'fs';
import { dirname, join, relative, sep } from 'path';
import { fileURLToPath } from 'url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const files = [];
const walk = dir => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      walk(path);
    } else {
      files.push(relative(root, path).split(sep).join('/'));
    }
  }
};
walk(join(root, 'src'));
walk(join(root, 'style'));
files.push('package.json', 'package-lock.json', 'webpack.config.js');
files.sort();
const digest = createHash('sha256');
for (const file of files) {
  const content = createHash('sha256').update(readFileSync(join(root, file))).digest('hex');
  digest.update(`${file}\0${content}\n`);
}
const out = join(root, '..', 'kfp_nbsecrets', 'labextension', 'build-source.sha256');
writeFileSync(out, digest.digest('hex') + '\n');
console.log(`wrote ${out}`);
