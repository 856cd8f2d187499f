// build.mjs builds the browser console into dist/, which package web embeds:
//   novnc.js    noVNC's RFB as one ES module (from src/entry.mjs)
//   console.js  our page's code, bundled from src/console.js and its modules
//   console.css our style
//   index.html  our page
// plus novnc-LICENSE.txt: noVNC's licence texts, those of the pako code it vendors and the
// notice of its DES code, since the bundle carries all three in executable form (MPL-2.0,
// MIT, BSD-2-Clause and Widget Workshop's notice).
// Run it through scripts/build-web.sh, which installs the pinned packages first.
import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const src = path.join(here, 'src');
const dist = path.join(here, 'dist');
const novncDir = path.join(here, 'node_modules', '@novnc', 'novnc');

// The browsers we aim at all run es2022; noVNC needs it for its top-level await.
const common = { bundle: true, minify: true, target: 'es2022', logLevel: 'warning' };

// The console imports RFB from "./novnc.js" at run time instead of carrying its own copy:
// one noVNC in the binary, cached by the browser separately from our code.
const novncExternal = {
  name: 'novnc-external',
  setup(build) {
    build.onResolve({ filter: /^\.\/novnc\.js$/ }, () => ({ path: './novnc.js', external: true }));
  },
};

// collapseHTML drops comments and indentation: our page has no <pre> or <textarea> content
// whose white space matters.
function collapseHTML(html) {
  return html
    .replace(/<!--[\s\S]*?-->/g, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join('\n') + '\n';
}

// sourceSum is the SHA-256 of what the build is made from (src/ and the lock file), written
// next to the build so that package web's tests notice a build older than its sources. Each
// file adds "name\nsha256hex\n" in name order; embed_test.go computes the same.
async function sourceSum() {
  const names = (await readdir(src)).sort().map((name) => `src/${name}`);
  names.push('package-lock.json');
  const all = createHash('sha256');
  for (const name of names.sort()) {
    const sum = createHash('sha256').update(await readFile(path.join(here, name))).digest('hex');
    all.update(`${name}\n${sum}\n`);
  }
  return all.digest('hex');
}

async function clean() {
  await mkdir(dist, { recursive: true });
  for (const name of await readdir(dist)) {
    if (name !== '.keep') {
      await rm(path.join(dist, name), { recursive: true, force: true });
    }
  }
}

async function main() {
  const novnc = JSON.parse(await readFile(path.join(novncDir, 'package.json'), 'utf8'));
  await clean();
  await esbuild.build({
    ...common,
    entryPoints: [path.join(src, 'entry.mjs')],
    format: 'esm',
    outfile: path.join(dist, 'novnc.js'),
    banner: {
      js: `/*! noVNC ${novnc.version} (npm @novnc/novnc), MPL-2.0: see novnc-LICENSE.txt; ` +
        'its source is the npm package of that version. */',
    },
  });
  await esbuild.build({
    ...common,
    entryPoints: [path.join(src, 'console.js')],
    format: 'esm',
    outfile: path.join(dist, 'console.js'),
    plugins: [novncExternal],
  });
  await esbuild.build({
    ...common,
    entryPoints: [path.join(src, 'console.css')],
    outfile: path.join(dist, 'console.css'),
  });
  const html = await readFile(path.join(src, 'index.html'), 'utf8');
  await writeFile(path.join(dist, 'index.html'), collapseHTML(html));
  const licences = [];
  for (const name of ['LICENSE.txt', 'docs/LICENSE.MPL-2.0', 'vendor/pako/LICENSE']) {
    licences.push(`==> @novnc/novnc ${novnc.version}: ${name} <==\n\n` +
      await readFile(path.join(novncDir, name), 'utf8'));
  }
  // The DES code noVNC carries (core/crypto/des.js) is under notices of its own, kept in its
  // leading comment: they must travel with the bundle too.
  const des = await readFile(path.join(novncDir, 'core', 'crypto', 'des.js'), 'utf8');
  const notice = des.match(/^\/\*[\s\S]*?\*\//);
  if (!notice) {
    throw new Error('core/crypto/des.js has no leading comment: where are its notices now?');
  }
  licences.push(`==> @novnc/novnc ${novnc.version}: core/crypto/des.js, its notice <==\n\n${notice[0]}\n`);
  await writeFile(path.join(dist, 'novnc-LICENSE.txt'), licences.join('\n'));
  await writeFile(path.join(dist, 'source.sha256'), `${await sourceSum()}\n`);
}

main().catch((err) => {
  console.error(`build-web: ${err.message}`);
  process.exit(1);
});
